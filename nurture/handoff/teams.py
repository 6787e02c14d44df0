"""Microsoft Teams incoming webhook (a Workflows or connector URL): a message carrying one
Adaptive Card (version 1.4): title, why them, a FactSet of the lead, why now, the last
activities, and Action.OpenUrl buttons to accept, reject, mark won or open the lead.

Teams answers 200 or 202; 400 for a card it cannot read (permanent), 429 and 5xx retried.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from nurture.handoff.base import NotificationContext
from nurture.handoff.errors import ChannelNotConfigured
from nurture.handoff.http import post
from nurture.handoff.summary import summarize

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"


def teams_payload(context: NotificationContext) -> dict[str, Any]:
    """``{"type": "message", "attachments": [{Adaptive Card}]}``."""
    summary = summarize(context)
    body: list[dict[str, Any]] = [
        _text(summary.title, weight="Bolder", size="Medium"),
        _text(summary.intro),
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": value} for label, value in summary.facts],
        },
    ]
    if summary.reasons:
        body += [_text("Why now", weight="Bolder"), _text(_bullets(summary.reasons))]
    if summary.activities:
        body += [_text("Last activity", weight="Bolder"), _text(_bullets(summary.activities))]
    card: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": label, "url": url} for label, url in summary.links
        ],
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "summary": summary.title,
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def _text(text: str, **style: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _bullets(lines: tuple[str, ...]) -> str:
    return "\n".join(f"- {line}" for line in lines)  # a Markdown list in a TextBlock


class TeamsNotifier:
    channel = "teams"

    def __init__(self, client: httpx.Client, url: str | None) -> None:
        self.client = client
        self.url = url

    def send(
        self, context: NotificationContext, recipient: str | None, idempotency_key: str
    ) -> None:
        if not self.url:
            raise ChannelNotConfigured("teams: NURTURE_TEAMS_WEBHOOK_URL is not set")
        body = json.dumps(teams_payload(context), ensure_ascii=False).encode()
        post(self.client, self.channel, self.url, body)
