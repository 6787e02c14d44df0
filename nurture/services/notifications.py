"""The notifications outbox: deliver a channel's rows, find rows due again, replay dead letters.

A row moves pending -> sending (claimed, one attempt, committed before the channel is
called) -> sent | pending again with ``next_attempt_at`` (a temporary failure) | dead (a
permanent failure, a channel not configured, or still failing ``give_up_after`` since the
row was created). Retries live in the database, never as delayed broker messages (DESIGN
pitfall): ``due_notifications`` hands rows whose ``next_attempt_at`` has come back to
``deliver_notifications``, so a lost message or a restart loses nothing. Each row is its own
attempt, but a job carries one channel's rows (claimed together, answers written together:
a delivery's CPU was mostly its own statements), so a channel that is down never holds up
another; rows a slow channel kept from being tried within ``BATCH_BUDGET`` go back due.

For pending rows ``next_attempt_at`` also says whether a job is out for them: set (due at
that time, nobody has it yet) or None (a job was enqueued; if the row is still pending
``REQUEUE_AFTER`` later, that job was lost and another goes).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from itertools import groupby
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, Update, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from nurture.handoff import Notifier
from nurture.handoff.attempt import Claimed as Claimed
from nurture.handoff.attempt import RetryPolicy as RetryPolicy
from nurture.handoff.attempt import attempt
from nurture.services.statements import ids_in
from nurture.services.uow import Database, Jobs
from nurture.store.handoff_models import Notification

log = logging.getLogger(__name__)

ACTOR = "deliver_notifications"  # one channel's ids; ``deliver_notification`` takes one
BATCH_BUDGET = timedelta(seconds=30)  # then the rows not yet tried go back due (time limit)
STUCK_AFTER = timedelta(minutes=5)  # in ``sending`` this long: its worker died mid-call
REQUEUE_AFTER = timedelta(minutes=2)  # handed out, still pending this long: the job was lost
DUE_BATCH = 500


def deliver(
    database: Database,
    notifiers: Mapping[str, Notifier],
    notification_id: int,
    now: datetime,
    *,
    policy: RetryPolicy | None = None,
    random_: Callable[[], float] = random.random,
) -> str | None:
    """``deliver_many`` for one row at ``now``; its status (None: no such row)."""
    found = deliver_many(
        database, notifiers, [notification_id], lambda: now, policy=policy, random_=random_
    )
    return found.get(notification_id)


def deliver_many(
    database: Database,
    notifiers: Mapping[str, Notifier],
    notification_ids: Iterable[int],
    clock: Callable[[], datetime],
    *,
    policy: RetryPolicy | None = None,
    random_: Callable[[], float] = random.random,
) -> dict[int, str]:
    """Claim the rows that are pending and due in one statement, send each and record its
    answer before the next (a crash leaves one row in doubt, as one job a row did); return
    each row's status (rows not found are left out). A row not
    claimable (sent, dead, being sent, not due yet) is left alone: a duplicate job does
    nothing. Rows not tried ``BATCH_BUDGET`` after the start (a channel timing out) go
    back to pending, due now, their attempt not counted.

    On one plain connection (one checkout and pool ping), no ORM session and no
    transaction open while a channel is called; statements built once per dialect."""
    policy = policy or RetryPolicy()
    ids = sorted(set(notification_ids))
    started = clock()
    with database.engine.connect() as connection:
        with connection.begin():
            claimed = claim_all(connection, ids, started)
            statuses = {row.id: "sending" for row in claimed}
            left = [i for i in ids if i not in statuses]
            if left:
                statement = _statuses(connection.dialect.name)
                found = connection.execute(statement, {"row_ids": left})
                statuses.update({row_id: status for row_id, status in found})
        untried = []
        for row in claimed:
            now = clock()
            if now - started > BATCH_BUDGET:
                status = "pending"
                values = {"attempts": row.attempts - 1, "next_attempt_at": now}
                untried.append((row, values | {"status": status, "updated_at": now}))
            else:
                status, values = attempt(notifiers, row, now, policy, random_)
                with connection.begin():  # each answer at once: a crash resends one row at most
                    record_all(connection, [(row, values | {"status": status, "updated_at": now})])
            statuses[row.id] = status
        if untried:
            with connection.begin():
                record_all(connection, untried)
    return statuses


_TABLE = cast(Table, Notification.__table__)
_T = _TABLE.c
_RECORDED = ("status", "updated_at", "last_error", "sent_at", "next_attempt_at", "attempts")


@cache
def _claim(dialect: str) -> Update:
    """Built once per dialect (SQLAlchemy caches its compiled form): only values change."""
    return (
        update(_TABLE)
        .where(
            ids_in(dialect, Notification.id, "row_ids"),
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


@cache
def _statuses(dialect: str) -> Select[int, str]:
    return select(_T.id, _T.status).where(ids_in(dialect, Notification.id, "row_ids"))


def claim(db: Session | Connection, notification_id: int, now: datetime) -> Claimed | None:
    """pending and due -> sending, one attempt more; None if the row is not claimable."""
    found = claim_all(db, [notification_id], now)
    return found[0] if found else None


def claim_all(db: Session | Connection, ids: Sequence[int], now: datetime) -> list[Claimed]:
    """``claim`` for every row of ``ids`` in one statement; the claimed ones, by id."""
    dialect = db.get_bind().dialect.name if isinstance(db, Session) else db.dialect.name
    params = {"row_ids": list(ids), "due_by": now, "claimed_at": now}
    rows = db.execute(_claim(dialect), params).all()
    return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


def record(db: Session | Connection, row: Claimed, values: dict[str, Any]) -> None:
    """``record_all`` for one row."""
    record_all(db, [(row, values)])


def record_all(db: Session | Connection, answers: Sequence[tuple[Claimed, dict[str, Any]]]) -> None:
    """Write each row's answer, unless it was claimed again meanwhile (a worker that took
    longer than ``STUCK_AFTER``: the newer attempt owns the row). One executemany per set
    of columns written (sent rows share one; psycopg sends them in one round trip)."""
    for row, values in answers:
        if unknown := set(values) - set(_RECORDED):
            raise ValueError(
                f"notification {row.id}: not columns an attempt records: {sorted(unknown)}"
            )

    def columns(answer: tuple[Claimed, dict[str, Any]]) -> tuple[str, ...]:
        return tuple(sorted(answer[1]))

    for names, group in groupby(sorted(answers, key=columns), key=columns):
        params = [
            {f"new_{k}": v for k, v in values.items()} | {"row_id": row.id, "tried": row.attempts}
            for row, values in group
        ]
        db.execute(_record_statement(frozenset(names)), params)


@cache
def _record_statement(columns: frozenset[str]) -> Update:
    """The UPDATE writing ``columns``, built once per set (an outcome writes 3 to 5)."""
    return (
        update(_TABLE)
        .where(
            _T.id == bindparam("row_id"),
            _T.attempts == bindparam("tried"),
            or_(_T.status == "sending", _T.status == "pending"),  # no IN: executemany
        )
        .values({name: bindparam(f"new_{name}") for name in sorted(columns)})
    )


def enqueue_by_channel(jobs: Jobs, rows: Iterable[Notification]) -> None:
    """One ``deliver_notifications`` job per channel: a channel timing out holds up only
    its own rows, never another channel's."""
    by_channel: dict[str, list[int]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row.id)
    for ids in by_channel.values():
        jobs.enqueue(ACTOR, ids)


def due_notifications(session: Session, jobs: Jobs, now: datetime, limit: int = DUE_BATCH) -> int:
    """For the scheduler: enqueue ``deliver_notifications`` for pending rows now due, rows
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
    enqueue_by_channel(jobs, rows)
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
    enqueue_by_channel(jobs, rows)  # at once where there is a broker; else the scheduler
    return [row.id for row in rows]


def list_notifications(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[Notification]:
    """Newest first; ``status`` filters (``dead`` for the dead letters)."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Notification.status == status)
    return list(session.scalars(query))
