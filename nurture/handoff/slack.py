"""Slack incoming webhook: one Block Kit message per notification.

    header    "New MQL: Jordan Rivera (Northwind Traders)"
    section   mention of the owner (<@U024BE7LH>) and why them
    section   fields: who, company, title, stage, fit grade, engagement, ...
    section   why now: the ladder rule and the top contributions
    section   the last activities
    actions   buttons Accept / Reject / Won / Open lead (links signed for this handoff)
    text      the same as plain text: notifications and clients without blocks show it

Slack answers 200 ``ok``; 400 ``invalid_payload`` / ``invalid_blocks``, 403
``action_prohibited``, 404 ``channel_not_found`` / ``no_service``, 410
``channel_is_archived`` (permanent), 429 with Retry-After, 5xx (retried).

Which webhook: ``NURTURE_SLACK_TEAM_WEBHOOKS`` maps a team to its channel's URL; a row whose
recipient, or else whose owner's team, is in that map goes there, any other row to
``NURTURE_SLACK_WEBHOOK_URL``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from nurture.handoff.base import NotificationContext
from nurture.handoff.errors import ChannelNotConfigured
from nurture.handoff.http import post
from nurture.handoff.summary import summarize

# Block Kit limits (docs.slack.dev, reference/block-kit)
HEADER_LIMIT = 150
TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
BUTTON_TEXT_LIMIT = 75
URL_LIMIT = 3000
BUTTON_STYLES = {"Accept": "primary", "Reject": "danger"}


def slack_payload(context: NotificationContext) -> dict[str, Any]:
    """The JSON body for an incoming webhook (``text`` plus ``blocks``)."""
    summary = summarize(context)
    mention = f"<@{summary.owner_slack_id}> " if summary.owner_slack_id else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(summary.title, HEADER_LIMIT)},
        _section(mention + escape(summary.intro)),
    ]
    fields = [
        _mrkdwn(f"*{label}*\n{escape(value)}", FIELD_LIMIT)
        for label, value in summary.facts[:MAX_FIELDS]
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if summary.reasons:
        blocks.append(_section("*Why now*\n" + _bullets(summary.reasons)))
    if summary.activities:
        blocks.append(_section("*Last activity*\n" + _bullets(summary.activities)))
    buttons = [_button(label, url) for label, url in summary.links if url and len(url) <= URL_LIMIT]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    fallback = f"{mention}{escape(summary.title)}: {escape(summary.intro)}"
    return {"text": _cut(fallback, TEXT_LIMIT), "blocks": blocks}


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn and text (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bullets(lines: tuple[str, ...]) -> str:
    return "\n".join(f"• {escape(line)}" for line in lines)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text, TEXT_LIMIT)}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, limit)}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _button(label: str, url: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(label, BUTTON_TEXT_LIMIT),
        "url": url,
        "action_id": label.lower().replace(" ", "_"),
    }
    if label in BUTTON_STYLES:
        button["style"] = BUTTON_STYLES[label]
    return button


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SlackNotifier:
    channel = "slack"

    def __init__(
        self,
        client: httpx.Client,
        url: str | None,
        team_urls: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.url = url
        self.team_urls = dict(team_urls or {})

    def url_for(self, context: NotificationContext, recipient: str | None) -> str:
        owner = context.get("owner")
        team = owner.get("team") if isinstance(owner, dict) else None
        for key in (recipient, team):
            if key and key in self.team_urls:
                return self.team_urls[key]
        if self.url:
            return self.url
        raise ChannelNotConfigured(
            "slack: NURTURE_SLACK_WEBHOOK_URL is not set"
            + (f" (and team {team!r} is not in NURTURE_SLACK_TEAM_WEBHOOKS)" if team else "")
        )

    def send(
        self, context: NotificationContext, recipient: str | None, idempotency_key: str
    ) -> None:
        url = self.url_for(context, recipient)
        body = json.dumps(slack_payload(context), ensure_ascii=False).encode()
        post(self.client, self.channel, url, body)
