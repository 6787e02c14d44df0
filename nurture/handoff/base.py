"""The one seam between the outbox and a channel (like an httpx transport):

    notifier.send(context, recipient, idempotency_key)  # None, or a NotificationError

``context`` is the document the handoff service stored on the notification row (the lead,
account, stage change reason, owner, activities, links: docs/notifications.md). Each
channel builds its own message from it with a pure function (``slack_payload``,
``teams_payload``, ``owner_email``, ``webhook_body``) and hands it over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from nurture.handoff.errors import ChannelNotConfigured

NotificationContext = Mapping[str, Any]


@runtime_checkable
class Notifier(Protocol):
    channel: str

    def send(
        self, context: NotificationContext, recipient: str | None, idempotency_key: str
    ) -> None:
        """Deliver one notification; raise ``NotificationUnavailable`` (retry) or
        ``NotificationRejected`` (don't)."""
        ...


class Unconfigured:
    """A channel the funnel lists but settings do not configure: every row goes dead at once
    with ``reason`` ("slack: NURTURE_SLACK_WEBHOOK_URL is not set"), nothing crashes."""

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason

    def send(
        self, context: NotificationContext, recipient: str | None, idempotency_key: str
    ) -> None:
        raise ChannelNotConfigured(self.reason)
