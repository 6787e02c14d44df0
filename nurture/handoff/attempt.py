"""One delivery attempt of a notification row, and what it leaves the row in: the outbox's
rules (nurture/services/notifications.py) apart from its SQL, so they read as plain Python."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nurture.handoff.base import Notifier
from nurture.handoff.errors import NotificationRejected, NotificationUnavailable

log = logging.getLogger(__name__)


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


def attempt(
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
