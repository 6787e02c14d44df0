"""The actors: a few lines each, calling into nurture.services (STYLE: thin edges)."""

from __future__ import annotations

import logging
import random

import dramatiq

from nurture.services import delivery, sending
from workers.broker import broker
from workers.runtime import get_runtime

log = logging.getLogger(__name__)


# Lower numbers run first among prefetched messages: recorded emails go out before the
# worker takes on more steps, so mail flows while a large batch is still being stepped.
@dramatiq.actor(broker=broker, max_retries=5, time_limit=120_000, queue_name="steps", priority=10)
def run_steps(enrollment_ids: list[int]) -> None:
    """Run the due steps of a chunk of enrollments (one transaction; each alone on error)."""
    rt = get_runtime()
    sending.run_steps(rt.database, rt.sending(), enrollment_ids, rt.clock.now())


@dramatiq.actor(
    broker=broker,
    max_retries=delivery.MAX_ATTEMPTS - 1,
    min_backoff=2_000,
    max_backoff=3_600_000,
    time_limit=120_000,
    queue_name="mail",
)
def deliver_messages(message_ids: list[int]) -> None:
    """Hand recorded messages to the provider; temporary failures retry with backoff."""
    rt = get_runtime()
    try:
        delivery.deliver(rt.database, rt.provider, message_ids, rt.clock.now())
    except delivery.RetryLater as later:
        if later.delay is None:
            raise  # the Retries middleware backs off exponentially, with jitter
        jitter = random.uniform(0, min(later.delay * 0.1, 30.0))
        raise dramatiq.Retry(later.reason, delay=int((later.delay + jitter) * 1000)) from None


@dramatiq.actor(broker=broker, max_retries=5, time_limit=120_000, queue_name="engagement")
def process_engagement(lead_ids: list[int]) -> None:
    """Rescore these leads after new events, apply the ladder, wake waiting enrollments."""
    _engage("process_engagement", lead_ids)


@dramatiq.actor(broker=broker, max_retries=5, time_limit=120_000, queue_name="engagement")
def rescore_account_peers(lead_ids: list[int]) -> None:
    """Rescore colleagues whose account signal another job's engagement changed (those of
    them not rescored since)."""
    _engage("rescore_account_peers", lead_ids)


# The fast lane (issue 7): leads whose new events include a hand-raiser, on a queue of their
# own that a worker serves apart from the engagement backlog (docs/operations-latency.md).
@dramatiq.actor(broker=broker, max_retries=5, time_limit=120_000, queue_name="handoffs")
def process_hand_raisers(lead_ids: list[int]) -> None:
    """The same as process_engagement, for leads that just raised a hand: never queued
    behind ordinary page views."""
    _engage("process_engagement", lead_ids)


def _engage(service: str, lead_ids: list[int]) -> None:
    """Run ``nurture.services.engagement.<service>`` for ``lead_ids`` in one transaction."""
    from nurture.services import engagement

    run = getattr(engagement, service)
    rt = get_runtime()
    with rt.database.unit_of_work() as uow:
        run(uow.session, uow.jobs, rt.funnels.current, lead_ids, rt.clock.now())


# Notifications (issue 7): retries live in the database (next_attempt_at), found again by the
# scheduler, so the message itself is never retried by Dramatiq.
@dramatiq.actor(broker=broker, max_retries=0, time_limit=120_000, queue_name="notifications")
def deliver_notifications(notification_ids: list[int]) -> None:
    """Send one channel's handoff notifications (Slack, Teams, email or CRM webhook), each
    row its own attempt, claimed and answered together: a channel down delays only its own."""
    from nurture.services import notifications

    rt = get_runtime()
    policy = notifications.RetryPolicy(give_up_after=rt.settings.notification_give_up_after)
    notifications.deliver_many(
        rt.database, rt.notifiers(), notification_ids, rt.clock.now, policy=policy
    )


@dramatiq.actor(broker=broker, max_retries=0, time_limit=60_000, queue_name="notifications")
def deliver_notification(notification_id: int) -> None:
    """One row: what jobs enqueued before deliver_notifications existed still carry."""
    deliver_notifications.fn([notification_id])
