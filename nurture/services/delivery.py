"""Handing a recorded message to the provider, and recording the answer.

The message row moves queued -> sending (committed before the provider is called) ->
sent | failed; a temporary failure puts it back to queued for a retry; a lead suppressed
meanwhile gets nothing (cancelled). A row left in ``sending`` by a crash is resolved by
``reconcile``: asked of the provider by idempotency key where it can tell, else marked
``unknown`` and never sent again. A row left in ``queued`` whose job the broker lost (Redis
restarted, a worker killed between commit and enqueue, retries used up) is handed out
again by ``requeue_lost`` (DESIGN invariant 1): only a ``queued`` row is ever sent, so a
second job for it is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.message import OutgoingEmail
from nurture.mail.providers import DeliveryUnknown, Provider
from nurture.services.uow import Database, Jobs
from nurture.store.models import Lead, Message

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 13  # the first try and 12 retries (about a day with exponential backoff)


def idempotency_key(message_id: int) -> str:
    return f"nurture-{message_id}"


@dataclass(frozen=True)
class RetryLater(Exception):
    """The provider is unavailable; try the same message again after ``delay`` seconds."""

    delay: float | None
    reason: str


def begin(session: Session, message_id: int, now: datetime) -> OutgoingEmail | None:
    """Claim a queued message for one attempt; None when there is nothing to send."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None or message.status != "queued":
        return None
    lead = session.get(Lead, message.lead_id)
    if lead is None or lead.contact_status != "active" or message.mime is None:
        message.status = "cancelled"
        message.error = f"contact status {lead.contact_status if lead else 'missing'}"
        message.updated_at = now
        return None
    message.status = "sending"
    message.attempts += 1
    message.updated_at = now
    return OutgoingEmail(
        message.id, idempotency_key(message.id), message.to_address, bytes(message.mime)
    )


def record_sent(
    session: Session, message_id: int, provider: str, provider_id: str, now: datetime
) -> None:
    message = session.get(Message, message_id, with_for_update=True)
    if message is None:
        return
    message.status = "sent"
    message.provider = provider
    message.provider_message_id = provider_id[:255]
    message.sent_at = now
    message.updated_at = now
    message.mime = None
    message.error = None


def record_failure(
    session: Session, message_id: int, status: str, error: str, now: datetime
) -> str:
    """Record a failed attempt; a temporary failure (``queued``) on the last allowed attempt
    becomes ``failed``. Returns the status the row ends in."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None:
        return "missing"
    if status == "queued" and message.attempts >= MAX_ATTEMPTS:
        status, error = "failed", f"gave up after {message.attempts} attempts: {error}"
    message.status = status
    message.error = error
    message.updated_at = now
    return status


def deliver(database: Database, provider: Provider, message_id: int, now: datetime) -> str:
    """One attempt, in three short transactions around the provider call."""
    with database.unit_of_work() as uow:
        outgoing = begin(uow.session, message_id, now)
    if outgoing is None:
        return "nothing to send"
    try:
        provider_id = provider.send(outgoing)
    except DeliveryUnknown as exc:  # the provider may have it: never risk a second copy
        with database.unit_of_work() as uow:
            record_failure(uow.session, message_id, "unknown", str(exc), now)
        return "unknown"
    except ProviderRejected as exc:
        with database.unit_of_work() as uow:
            record_failure(uow.session, message_id, "failed", str(exc), now)
        return "failed"
    except ProviderUnavailable as exc:
        with database.unit_of_work() as uow:
            status = record_failure(uow.session, message_id, "queued", str(exc), now)
        if status == "failed":
            return "failed"
        raise RetryLater(exc.retry_after, str(exc)) from exc
    with database.unit_of_work() as uow:
        record_sent(uow.session, message_id, provider.name, provider_id, now)
    return "sent"


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
    for message in stuck:
        if not provider.supports_lookup:
            message.status, message.error = "unknown", "worker stopped during the provider call"
            counts["unknown"] += 1
        elif (found := provider.find(idempotency_key(message.id))) is not None:
            record_sent(session, message.id, provider.name, found, now)
            counts["sent"] += 1
        else:  # the provider never got it: the same row may go again
            message.status = "queued"
            jobs.enqueue("deliver_message", message.id)
            counts["requeued"] += 1
        message.updated_at = now
    return counts


def requeue_lost(
    session: Session, jobs: Jobs, now: datetime, older_than: timedelta, limit: int = 500
) -> int:
    """Enqueue ``deliver_message`` again for messages ``queued`` and untouched for longer
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
        jobs.enqueue("deliver_message", message.id)
    return len(lost)
