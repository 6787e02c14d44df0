"""The handoff to sales: notifiers for Slack, Microsoft Teams, email and a signed CRM
webhook, each a pure payload builder plus a sender behind the ``Notifier`` protocol."""

from nurture.handoff.base import NotificationContext, Notifier, Unconfigured
from nurture.handoff.email import EmailNotifier, owner_email
from nurture.handoff.errors import (
    ChannelNotConfigured,
    NotificationError,
    NotificationRejected,
    NotificationUnavailable,
)
from nurture.handoff.notifiers import Notifiers, make_notifiers
from nurture.handoff.slack import SlackNotifier, slack_payload
from nurture.handoff.summary import Summary, summarize
from nurture.handoff.teams import TeamsNotifier, teams_payload
from nurture.handoff.webhook import WebhookNotifier, signature, webhook_body

__all__ = [
    "ChannelNotConfigured",
    "EmailNotifier",
    "NotificationContext",
    "NotificationError",
    "NotificationRejected",
    "NotificationUnavailable",
    "Notifier",
    "Notifiers",
    "SlackNotifier",
    "Summary",
    "TeamsNotifier",
    "Unconfigured",
    "WebhookNotifier",
    "make_notifiers",
    "owner_email",
    "signature",
    "slack_payload",
    "summarize",
    "teams_payload",
    "webhook_body",
]
