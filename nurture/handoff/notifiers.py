"""Build every channel's notifier from settings, once per process (one httpx client for the
webhooks; email goes through the process's mail provider)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from nurture.core.clock import SYSTEM_CLOCK, Clock
from nurture.core.funnel import Sender
from nurture.core.handoff_model import Channel
from nurture.handoff.base import Notifier, Unconfigured
from nurture.handoff.email import EmailNotifier
from nurture.handoff.http import make_client
from nurture.handoff.slack import SlackNotifier
from nurture.handoff.teams import TeamsNotifier
from nurture.handoff.webhook import WebhookNotifier
from nurture.mail.providers import Provider

if TYPE_CHECKING:
    from nurture.settings import Settings

Notifiers = dict[str, Notifier]


def make_notifiers(
    settings: Settings,
    provider: Provider,
    sender: Callable[[], Sender],
    *,
    clock: Clock = SYSTEM_CLOCK,
    client: httpx.Client | None = None,
) -> Notifiers:
    """A notifier per channel; a channel without its URL gets one that answers every row
    with "<channel>: NURTURE_..._URL is not set" (the rows go dead, nothing crashes).
    ``clock`` dates the emails; webhook signatures always carry wall-clock time, which is
    what the receiver checks them against (also under ``nurture run --clock-speed``)."""
    http = client or make_client(settings.http_timeout_seconds)
    notifiers: Notifiers = {Channel.EMAIL.value: EmailNotifier(provider, sender, clock)}
    if settings.slack_webhook_url or settings.slack_team_webhooks:
        notifiers[Channel.SLACK.value] = SlackNotifier(
            http, settings.slack_webhook_url, settings.slack_team_webhooks
        )
    else:
        notifiers[Channel.SLACK.value] = Unconfigured(
            "slack", "slack: NURTURE_SLACK_WEBHOOK_URL is not set"
        )
    notifiers[Channel.TEAMS.value] = (
        TeamsNotifier(http, settings.teams_webhook_url)
        if settings.teams_webhook_url
        else Unconfigured("teams", "teams: NURTURE_TEAMS_WEBHOOK_URL is not set")
    )
    if not settings.crm_webhook_url:
        notifiers[Channel.WEBHOOK.value] = Unconfigured(
            "webhook", "webhook: NURTURE_CRM_WEBHOOK_URL is not set"
        )
    elif not settings.crm_webhook_secret:
        notifiers[Channel.WEBHOOK.value] = Unconfigured(
            "webhook", "webhook: NURTURE_CRM_WEBHOOK_SECRET is not set (nothing unsigned is sent)"
        )
    else:
        notifiers[Channel.WEBHOOK.value] = WebhookNotifier(
            http, settings.crm_webhook_url, settings.crm_webhook_secret, SYSTEM_CLOCK
        )
    return notifiers
