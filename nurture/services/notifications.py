"""The notifications outbox: deliver one row, find rows due again, replay dead letters.

A row moves pending -> sending (claimed, one attempt, committed before the channel is
called) -> sent | pending again with ``next_attempt_at`` (a temporary failure) | dead (a
permanent failure, a channel not configured, or still failing ``give_up_after`` since the
row was created). Retries live in the database, never as delayed broker messages (DESIGN
pitfall): ``due_notifications`` hands rows whose ``next_attempt_at`` has come back to
``deliver_notification``, so a lost message or a restart loses nothing. Each row is its own
delivery: a channel that is down never holds up another.

For pending rows ``next_attempt_at`` also says whether a job is out for them: set (due at
that time, nobody has it yet) or None (a job was enqueued; if the row is still pending
``REQUEUE_AFTER`` later, that job was lost and another goes).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Table, Update, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from nurture.handoff import NotificationRejected, NotificationUnavailable, Notifier
from nurture.services.uow import Database, Jobs
from nurture.store.handoff_models import Notification

log = logging.getLogger(__name__)

ACTOR = "deliver_notification"
STUCK_AFTER = timedelta(minutes=5)  # in ``sending`` this long: its worker died mid-call
REQUEUE_AFTER = timedelta(minutes=2)  # handed out, still pending this long: the job was lost
DUE_BATCH = 500


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th retry waits ``first * 2**(n-1)``, at most
    ``longest``, of which a random half is taken off ("equal jitter") so that rows failing
    together do not retry together. A receiver's Retry-After wins: exactly that long, plus
    up to ``retry_after_jitter`` of it (at most 30 s). A row still failing
    ``give_up_after`` after it was created goes dead."""

    first: timedelta = timedelta(seconds=10)
    longest: timedelta = timedelta(minutes=30)
    give_up_after: timedelta = timedelta(hours=24)
    retry_after_jitter: float = 0.1

    def delay(
        self, attempts: int, retry_after: float | None, random_: Callable[[], float]
    ) -> timedelta:
        if retry_after is not None:
            spread = min(retry_after * self.retry_after_jitter, 30.0)
            return timedelta(seconds=retry_after + spread * random_())
        ceiling = min(self.first * (1 << min(max(attempts - 1, 0), 30)), self.longest)
        return ceiling / 2 + ceiling / 2 * random_()


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    recipient: str | None
    context: dict[str, Any]
    idempotency_key: str
    attempts: int
    created_at: datetime


def deliver(
    database: Database,
    notifiers: Mapping[str, Notifier],
    notification_id: int,
    now: datetime,
    *,
    policy: RetryPolicy | None = None,
    random_: Callable[[], float] = random.random,
) -> str | None:
    """Claim the row if it is pending and due, send it, record the answer; return the
    status it ends in (None: no such row). A row not claimable (sent, dead, being sent, not
    due yet) is left alone and its status returned: a duplicate job does nothing.

    Each transaction is one statement built once, on a plain connection kept for both
    (not in a transaction while the channel is called), no ORM session: building ORM
    statements per call and checking out (and pinging) a connection twice were most of a
    delivery's CPU besides the HTTP call."""
    policy = policy or RetryPolicy()
    with database.engine.connect() as connection:  # one checkout (and pool ping) for both
        with connection.begin():
            claimed = claim(connection, notification_id, now)
            if claimed is None:
                found: str | None = connection.scalar(_STATUS, {"row_id": notification_id})
                return found
        status, values = _attempt(notifiers, claimed, now, policy, random_)
        with connection.begin():
            record(connection, claimed, values | {"status": status, "updated_at": now})
    return status


_TABLE = cast(Table, Notification.__table__)
_T = _TABLE.c
#: Built once (SQLAlchemy caches their compiled form): only the parameters change per row.
_CLAIM = (
    update(_TABLE)
    .where(
        _T.id == bindparam("row_id"),
        _T.status == "pending",
        or_(_T.next_attempt_at.is_(None), _T.next_attempt_at <= bindparam("due_by")),
    )
    .values(status="sending", attempts=_T.attempts + 1, updated_at=bindparam("claimed_at"))
    .returning(
        _T.id,
        _T.channel,
        _T.recipient,
        _T.context,
        _T.idempotency_key,
        _T.attempts,
        _T.created_at,
    )
)
_STATUS = select(_T.status).where(_T.id == bindparam("row_id"))
_RECORDED = ("status", "updated_at", "last_error", "sent_at", "next_attempt_at")


def claim(db: Session | Connection, notification_id: int, now: datetime) -> Claimed | None:
    """pending and due -> sending, one attempt more; None if the row is not claimable."""
    params = {"row_id": notification_id, "due_by": now, "claimed_at": now}
    row = db.execute(_CLAIM, params).first()
    return Claimed(*row) if row is not None else None


def _attempt(
    notifiers: Mapping[str, Notifier],
    row: Claimed,
    now: datetime,
    policy: RetryPolicy,
    random_: Callable[[], float],
) -> tuple[str, dict[str, Any]]:
    """Send once; the status and the columns to write."""
    notifier = notifiers.get(row.channel)
    if notifier is None:
        error = f"{row.channel}: no such channel (slack, teams, email or webhook)"
        return "dead", {"last_error": error}
    try:
        notifier.send(row.context, row.recipient, row.idempotency_key)
    except NotificationRejected as exc:
        return "dead", {"last_error": str(exc)}
    except NotificationUnavailable as exc:
        when = now + policy.delay(row.attempts, exc.retry_after, random_)
        deadline = row.created_at + policy.give_up_after
        if when > deadline:
            error = f"gave up after {row.attempts} attempts in {now - row.created_at}: {exc}"
            return "dead", {"last_error": error}
        return "pending", {"last_error": str(exc), "next_attempt_at": when}
    except Exception as exc:  # a bug (a context it cannot read): keep it, don't loop on it
        log.exception("notification %s: %s notifier failed", row.id, row.channel)
        return "dead", {"last_error": f"{row.channel}: {type(exc).__name__}: {exc}"}
    return "sent", {"last_error": None, "sent_at": now, "next_attempt_at": None}


def record(db: Session | Connection, row: Claimed, values: dict[str, Any]) -> None:
    """Write the answer, unless the row was claimed again meanwhile (a worker that took
    longer than ``STUCK_AFTER``: the newer attempt owns the row)."""
    unknown = set(values) - set(_RECORDED)
    if unknown:
        raise ValueError(f"not columns an attempt records: {sorted(unknown)}")
    params = {f"new_{name}": value for name, value in values.items()}
    db.execute(
        _record_statement(frozenset(values)), params | {"row_id": row.id, "tried": row.attempts}
    )


@cache
def _record_statement(columns: frozenset[str]) -> Update:
    """The UPDATE writing ``columns``, built once per set (an outcome writes 3 to 5)."""
    return (
        update(_TABLE)
        .where(
            _T.id == bindparam("row_id"),
            _T.attempts == bindparam("tried"),
            _T.status.in_(("sending", "pending")),
        )
        .values({name: bindparam(f"new_{name}") for name in sorted(columns)})
    )


def due_notifications(session: Session, jobs: Jobs, now: datetime, limit: int = DUE_BATCH) -> int:
    """For the scheduler: enqueue ``deliver_notification`` for pending rows now due, rows
    whose job was lost, and rows stuck in ``sending`` (their worker died; the CRM tells a
    second delivery by its idempotency key). Returns how many were handed out."""
    rows = session.scalars(
        select(Notification)
        .where(
            or_(
                and_(Notification.status == "pending", Notification.next_attempt_at <= now),
                and_(
                    Notification.status == "pending",
                    Notification.next_attempt_at.is_(None),
                    Notification.updated_at <= now - REQUEUE_AFTER,
                ),
                and_(
                    Notification.status == "sending",
                    Notification.updated_at <= now - STUCK_AFTER,
                ),
            )
        )
        .order_by(Notification.id)
        .with_for_update(skip_locked=True)
        .limit(limit)
    ).all()
    for row in rows:
        if row.status == "sending":
            log.warning("notification %s stuck in sending since %s", row.id, row.updated_at)
        row.status, row.next_attempt_at, row.updated_at = "pending", None, now
        jobs.enqueue(ACTOR, row.id)
    return len(rows)


def due_tick(database: Database, now: datetime) -> int:
    """One scheduler pass: ``due_notifications`` in batches, each its own transaction (jobs
    go after each commit); returns how many were handed out. Cheap when nothing is due (one
    indexed query), so the scheduler may call it every tick: a 2-second Retry-After is then
    honoured to within a tick."""
    total = 0
    while True:
        with database.unit_of_work() as uow:
            found = due_notifications(uow.session, uow.jobs, now, DUE_BATCH)
        total += found
        if found < DUE_BATCH:
            return total


def retry(
    session: Session,
    jobs: Jobs,
    now: datetime,
    ids: Sequence[int] = (),
    *,
    all_dead: bool = False,
) -> list[int]:
    """Put dead rows (those among ``ids``, or all of them) back to pending, due now, with
    their attempts reset; return their ids. Sent and pending rows are left alone. The give-up
    limit still counts from creation: a row older than it gets this one attempt."""
    query = select(Notification).where(Notification.status == "dead")
    if not all_dead:
        query = query.where(Notification.id.in_(list(ids)))
    rows = session.scalars(query.order_by(Notification.id).with_for_update()).all()
    for row in rows:
        row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
        jobs.enqueue(ACTOR, row.id)  # at once where there is a broker; else the scheduler
    return [row.id for row in rows]


def list_notifications(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[Notification]:
    """Newest first; ``status`` filters (``dead`` for the dead letters)."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Notification.status == status)
    return list(session.scalars(query))
