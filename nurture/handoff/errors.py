"""What a notifier raises; the outbox decides from the type whether to try again.

NurtureError
└── NotificationError          a notification could not be delivered
    ├── NotificationUnavailable    retry later: 429, 5xx, 408, timeouts, unreachable;
    │                              ``retry_after`` seconds when the peer said so
    └── NotificationRejected       permanent: a 4xx with the peer's reason
        └── ChannelNotConfigured   the channel's URL (or secret) is not set
"""

from __future__ import annotations

from nurture.errors import NurtureError


class NotificationError(NurtureError):
    """A notification could not be delivered."""


class NotificationUnavailable(NotificationError):
    """Temporary failure; try again, after ``retry_after`` seconds if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class NotificationRejected(NotificationError):
    """Permanent failure: the receiver refused this notification; retrying will not help."""


class ChannelNotConfigured(NotificationRejected):
    """The funnel lists a channel whose URL or secret is not set."""
