"""``POST /webhooks/<provider>``: email providers report deliveries, bounces, opens, clicks,
complaints and unsubscribes here (DESIGN flow).

The body is read raw, under a size limit (413 before reading further), verified and
normalised by ``nurture.ingest.Webhooks``, and stored in one transaction; the answer is a
2xx with counts as soon as that commits, the follow-up work goes to ``process_engagement``.
A provider whose secret is not set answers 404; a request that fails verification gets its
4xx (errors.py) and stores nothing; an unmatched event is acknowledged so the provider does
not retry it forever.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from nurture.errors import NotFound, WebhookTooLarge
from nurture.ingest import Webhooks
from nurture.ingest.events import InboundEvent
from nurture.runtime import Runtime
from nurture.services.engagement import StoredCounts, store_events
from nurture.services.suppression import SoftBouncePolicy
from nurture.services.webhook_tokens import DatabaseTokenCache
from nurture.web.schemas import WebhookOut

#: Times a batch is stored again after PostgreSQL aborted it as a deadlock victim.
DEADLOCK_RETRIES = 5
_RETRYABLE = {"40P01", "40001"}  # deadlock_detected, serialization_failure

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Malformed body (not the provider's documented JSON)"},
    401: {"description": "Missing or forged signature, replayed or stale request"},
    404: {"description": "This provider's webhook secret is not configured"},
    413: {"description": "Body over the size limit"},
    503: {"description": "The SNS signing certificate could not be fetched; retry later"},
}


def make_webhooks(runtime: Runtime) -> Webhooks:
    """The process's one ``Webhooks``: secrets from settings, Mailgun tokens remembered in
    the database (a replay to another API process is refused too)."""
    secrets = runtime.settings.webhook_secrets()
    ttl = timedelta(seconds=2 * secrets.tolerance_seconds)
    return Webhooks(secrets, tokens=DatabaseTokenCache(runtime.database, runtime.clock, ttl))


@router.post("/{provider}", response_model=WebhookOut, responses=ERRORS)
async def receive(provider: str, request: Request) -> WebhookOut:
    """Verify, normalise and store one provider request (one event, or a batch).

    Answers `{"stored", "duplicates", "unmatched", "ignored"}`: newly stored events, events
    already stored (provider retries), events matching no message and no lead (not stored),
    and provider event types that have no canonical type. An SNS SubscriptionConfirmation is
    confirmed and answered 200 with zero counts.
    """
    webhooks: Webhooks = request.app.state.webhooks
    if not webhooks.configured(provider):
        raise NotFound(f"no webhook endpoint for provider {provider!r}")
    body = await _read_body(request, webhooks.max_body_bytes)
    runtime: Runtime = request.app.state.runtime
    # Verification, crypto and the database are blocking: off the event loop.
    return await run_in_threadpool(_handle, runtime, webhooks, provider, body, request.headers)


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) as soon as it is known to be over ``limit``: from
    Content-Length before reading, else while streaming."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WebhookTooLarge(f"webhook body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookTooLarge(f"webhook body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _handle(
    runtime: Runtime, webhooks: Webhooks, provider: str, body: bytes, headers: Mapping[str, str]
) -> WebhookOut:
    now = runtime.clock.now()
    result = webhooks.parse(provider, body, headers, now)
    if result.subscribe_url:
        webhooks.confirm_subscription(result.subscribe_url)
        return WebhookOut(stored=0, duplicates=0, unmatched=0, ignored=0)
    counts = StoredCounts()
    if result.events:
        settings = runtime.settings
        policy = SoftBouncePolicy(settings.soft_bounce_limit, settings.soft_bounce_window)
        try:
            counts = _store(runtime, result.events, now, policy)
        except Exception:
            webhooks.release(provider, body)  # the provider retries; that is no replay
            raise
    return WebhookOut(
        stored=counts.stored,
        duplicates=counts.duplicates,
        unmatched=counts.unmatched,
        ignored=len(result.ignored),
    )


def _store(
    runtime: Runtime, events: Sequence[InboundEvent], now: datetime, policy: SoftBouncePolicy
) -> StoredCounts:
    """Store in one transaction, again if PostgreSQL chose it as a deadlock victim.

    Lead locks are FOR NO KEY UPDATE, which an event insert's key-share lock (its foreign
    key) does not wait for, so batches should not deadlock; this stays as a safety net. A
    victim was rolled back whole (no jobs were sent), so storing it again is safe; a
    provider would retry it anyway, but a 500 costs it minutes of backoff.
    """
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            with runtime.database.unit_of_work() as uow:
                raisers = runtime.funnels.current.scoring.hand_raisers
                return store_events(uow.session, uow.jobs, events, now, policy, raisers)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE or attempt == DEADLOCK_RETRIES:
                raise
            log.warning(
                "webhook batch of %d events was a deadlock victim; storing it again", len(events)
            )
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")
