"""Handing recorded messages to the provider, and recording the answers.

A message row moves queued -> sending (committed before the provider is called) ->
sent | failed | unknown; a temporary failure puts it back to queued for a retry; a lead
suppressed meanwhile gets nothing (cancelled). Only a ``queued`` row is ever claimed, so a
second job for the same message is harmless (DESIGN invariant 1).

Messages come in batches (one ``deliver_messages`` job per chunk of stepped enrollments).
Where the provider can say afterwards whether it took a message (``supports_lookup``), the
whole batch is claimed in one statement: after a crash the reconciler asks the provider
about every row left in ``sending``, and the answers are recorded together. Where it cannot
(plain SMTP), each message is claimed in its own short transaction just before it is handed
over, the same transaction recording the previous answer, so a crash leaves at most one
message in doubt, marked ``unknown`` and never sent again; the rest stay ``queued`` and go
out later.

When the provider is unavailable (429, 5xx, timeout) the batch stops there: the messages
not yet tried go back to ``queued`` without using an attempt, and ``RetryLater`` asks the
caller to retry the batch after the provider's Retry-After, if it gave one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, literal, select, update
from sqlalchemy.orm import Session

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.message import OutgoingEmail
from nurture.mail.providers import DeliveryUnknown, Provider
from nurture.services.engagement_match import one_of
from nurture.services.uow import Database, Jobs
from nurture.store.bulk import fetch_binary, update_rows
from nurture.store.models import Lead, Message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 13  # the first try and 12 retries (about a day with exponential backoff)
JOB_SIZE = 50  # message ids per deliver_messages job when handing out again


def idempotency_key(message_id: int) -> str:
    return f"nurture-{message_id}"


@dataclass(frozen=True)
class RetryLater(Exception):
    """The provider is unavailable; try the same messages again after ``delay`` seconds."""

    delay: float | None
    reason: str


@dataclass(frozen=True)
class Answer:
    """What became of one hand-over: ``sent``, ``failed``, ``unknown``, ``retry`` (the
    provider is unavailable) or ``untried`` (the batch stopped before it)."""

    outcome: str
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None


UNTRIED = Answer("untried")
STOPPING = ("retry", "unknown")  # the provider is struggling: stop the batch there


def deliver(
    database: Database, provider: Provider, message_ids: Sequence[int], now: datetime
) -> dict[int, str]:
    """Hand the queued messages among ``message_ids`` to the provider; return each one's
    status. Raises ``RetryLater`` when some are left queued for a retry."""
    ids = sorted(set(message_ids))
    if provider.supports_lookup:
        statuses, last, unclaimed = _all_at_once(database, provider, ids, now)
    else:
        statuses, last, unclaimed = _one_at_a_time(database, provider, ids, now)
    if unclaimed or "queued" in statuses.values():
        delays = [a.retry_after for a in last.values() if a.retry_after is not None]
        reason = next((a.error for a in last.values() if a.error), "provider unavailable")
        raise RetryLater(max(delays) if delays else None, reason)
    return statuses


Delivered = tuple[dict[int, str], dict[int, Answer], int]  # statuses, last answers, unclaimed


def _all_at_once(
    database: Database, provider: Provider, ids: list[int], now: datetime
) -> Delivered:
    with database.unit_of_work() as uow:
        emails = claim(uow.session, ids, now)
    answers: dict[int, Answer] = {}
    for email in emails:
        stopped = any(a.outcome in STOPPING for a in answers.values())
        answers[email.message_id] = UNTRIED if stopped else hand_over(provider, email)
    with database.unit_of_work() as uow:
        return record(uow.session, provider.name, answers, now), answers, 0


def _one_at_a_time(
    database: Database, provider: Provider, ids: list[int], now: datetime
) -> Delivered:
    statuses: dict[int, str] = {}
    answers: dict[int, Answer] = {}
    for n, message_id in enumerate(ids):
        with database.unit_of_work() as uow:  # the last answer and the next claim together
            statuses |= record(uow.session, provider.name, answers, now)
            emails = claim(uow.session, [message_id], now)
        answers = {email.message_id: hand_over(provider, email) for email in emails}
        if any(a.outcome in STOPPING for a in answers.values()):
            unclaimed = len(ids) - n - 1  # they stay queued and go with the retry
            break
    else:
        unclaimed = 0
    with database.unit_of_work() as uow:
        return statuses | record(uow.session, provider.name, answers, now), answers, unclaimed


def hand_over(provider: Provider, email: OutgoingEmail) -> Answer:
    """One provider call, its result or typed error turned into an ``Answer``."""
    try:
        return Answer("sent", provider_id=provider.send(email))
    except DeliveryUnknown as exc:  # the provider may have it: never risk a second copy
        return Answer("unknown", error=str(exc))
    except ProviderRejected as exc:
        return Answer("failed", error=str(exc))
    except ProviderUnavailable as exc:
        return Answer("retry", error=str(exc), retry_after=exc.retry_after)


# The claim on PostgreSQL, its MIME read back in binary form (fetch_binary): as text, the
# server spells each 8 KB body out in 16 KB of hex and the worker decodes it again.
_CLAIM = """
UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = %s
WHERE id = ANY(%s::bigint[]) AND status = 'queued' AND mime IS NOT NULL
RETURNING id, to_address, mime
"""


def claim(session: Session, message_ids: Sequence[int], now: datetime) -> list[OutgoingEmail]:
    """Move the queued messages among ``message_ids`` to ``sending`` (one attempt each) and
    return them in id order; cancel those whose lead was suppressed meanwhile."""
    suppressed = select(Lead.id).where(Lead.contact_status != "active")
    status_of_lead = select(Lead.contact_status).where(Lead.id == Message.lead_id).scalar_subquery()
    session.execute(
        update(Message)
        .where(
            one_of(session, Message.id, list(message_ids), BigInteger()),
            Message.status == "queued",
            Message.lead_id.in_(suppressed),
        )
        .values(status="cancelled", error=literal("contact status ") + status_of_lead)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if session.get_bind().dialect.name == "postgresql":
        rows: Iterable[Any] = fetch_binary(session, _CLAIM, (now, list(message_ids)))
    else:
        rows = session.execute(
            update(Message)
            .where(
                Message.id.in_(message_ids),
                Message.status == "queued",
                Message.mime.is_not(None),
            )
            .values(status="sending", attempts=Message.attempts + 1, updated_at=now)
            .returning(Message.id, Message.to_address, Message.mime)
            .execution_options(synchronize_session=False)
        )
    return [
        OutgoingEmail(message_id, idempotency_key(message_id), to, bytes(mime))
        for message_id, to, mime in sorted(rows)
        if mime is not None
    ]


def record(
    session: Session, provider_name: str, answers: dict[int, Answer], now: datetime
) -> dict[int, str]:
    """Write the answers; return the status each row ends in. A ``retry`` on the last
    allowed attempt becomes ``failed``; an ``untried`` row goes back to ``queued`` without
    using an attempt."""
    retried = [i for i, a in answers.items() if a.outcome == "retry"]
    attempts: dict[int, int] = {}
    if retried:
        query = select(Message.id, Message.attempts).where(Message.id.in_(retried))
        attempts = {message_id: tries for message_id, tries in session.execute(query)}
    changes: list[dict[str, Any]] = []
    untried: list[int] = []
    statuses: dict[int, str] = {}
    for message_id, answer in answers.items():
        if answer.outcome == "untried":
            untried.append(message_id)
            statuses[message_id] = "queued"
            continue
        change: dict[str, Any] = {"id": message_id, "updated_at": now}
        if answer.outcome == "sent":
            change |= {
                "status": "sent",
                "provider": provider_name,
                "provider_message_id": (answer.provider_id or "")[:255],
                "sent_at": now,
                "mime": None,
                "error": None,
            }
        elif answer.outcome == "retry" and attempts.get(message_id, 0) >= MAX_ATTEMPTS:
            tries = attempts[message_id]
            change |= {
                "status": "failed",
                "error": f"gave up after {tries} attempts: {answer.error}",
            }
        else:
            status = "queued" if answer.outcome == "retry" else answer.outcome
            change |= {"status": status, "error": answer.error}
        statuses[message_id] = change["status"]
        changes.append(change)
    for shape in {frozenset(c) for c in changes}:  # one statement per set of columns
        update_rows(session, Message, [c for c in changes if frozenset(c) == shape])
    if untried:
        session.execute(
            update(Message)
            .where(Message.id.in_(untried), Message.status == "sending")
            .values(status="queued", attempts=Message.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    return statuses


def reconcile(
    session: Session, jobs: Jobs, provider: Provider, now: datetime, older_than: timedelta
) -> dict[str, int]:
    """Resolve messages stuck in ``sending`` (their worker died mid-call)."""
    stuck = session.scalars(
        select(Message)
        .where(Message.status == "sending", Message.updated_at < now - older_than)
        .with_for_update(skip_locked=True)
        .limit(500)
    ).all()
    counts = {"sent": 0, "requeued": 0, "unknown": 0}
    requeued: list[int] = []
    for message in stuck:
        message.updated_at = now
        if not provider.supports_lookup:
            message.status, message.error = "unknown", "worker stopped during the provider call"
            counts["unknown"] += 1
        elif (found := provider.find(idempotency_key(message.id))) is not None:
            message.status, message.provider, message.provider_message_id = (
                "sent",
                provider.name,
                found[:255],
            )
            message.sent_at, message.mime, message.error = now, None, None
            counts["sent"] += 1
        else:  # the provider never got it: the same row may go again
            message.status = "queued"
            requeued.append(message.id)
            counts["requeued"] += 1
    _enqueue(jobs, requeued)
    return counts


def requeue_lost(
    session: Session, jobs: Jobs, now: datetime, older_than: timedelta, limit: int = 500
) -> int:
    """Enqueue ``deliver_messages`` again for messages ``queued`` and untouched for longer
    than ``older_than``; return how many. Every attempt refreshes ``updated_at``, so
    ``older_than`` must exceed the longest retry backoff, or a message waiting for its retry
    is tried early (and a provider that is down sees more attempts)."""
    lost = session.scalars(
        select(Message)
        .where(Message.status == "queued", Message.updated_at < now - older_than)
        .order_by(Message.updated_at)
        .with_for_update(skip_locked=True)
        .limit(limit)
    ).all()
    for message in lost:
        message.updated_at = now  # not again before another ``older_than``
    _enqueue(jobs, [m.id for m in lost])
    return len(lost)


def _enqueue(jobs: Jobs, message_ids: list[int]) -> None:
    for start in range(0, len(message_ids), JOB_SIZE):
        jobs.enqueue("deliver_messages", message_ids[start : start + JOB_SIZE])
