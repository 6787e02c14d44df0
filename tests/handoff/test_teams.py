"""Microsoft Teams: a message with one Adaptive Card, posted to a local server playing the
incoming webhook."""

from __future__ import annotations

import pytest

from nurture.handoff import (
    ChannelNotConfigured,
    NotificationRejected,
    NotificationUnavailable,
    TeamsNotifier,
    teams_payload,
)
from nurture.handoff.http import make_client
from nurture.handoff.teams import CARD_CONTENT_TYPE


@pytest.fixture
def client():
    with make_client(5.0) as http:
        yield http


def card_of(payload):
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    return attachment["content"]


class TestPayload:
    def test_is_a_message_with_one_adaptive_card_of_version_1_4_or_later(self, context):
        payload = teams_payload(context)
        card = card_of(payload)

        assert payload["type"] == "message"
        assert card["type"] == "AdaptiveCard"
        assert tuple(map(int, card["version"].split("."))) >= (1, 4)
        assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"

    def test_the_title_and_facts_describe_the_lead(self, context):
        body = card_of(teams_payload(context))["body"]

        assert body[0]["text"] == "New MQL: Jordan Rivera (Northwind Traders)"
        assert body[0]["weight"] == "Bolder"
        [facts] = [b["facts"] for b in body if b["type"] == "FactSet"]
        values = {f["title"]: f["value"] for f in facts}
        assert values["Who"] == "Jordan Rivera <jordan@northwind.example>"
        assert values["Title"] == "Head of Product"
        assert values["Stage"] == "warm → mql"
        assert values["Fit grade"] == "A (65 points)"
        assert values["Engagement"] == "54.2"
        assert values["Owner"] == "Priya Shah"

    def test_why_now_and_last_activity_are_text_blocks(self, context):
        texts = [b["text"] for b in card_of(teams_payload(context))["body"] if "text" in b]

        assert "- mql: fit in [A, B] and engagement >= 50\n- pricing-page: +20 points (2 events)"\
            "\n- webinar: +15 points" in texts  # fmt: skip
        assert any(t.startswith("- 2026-11-23 15:00 UTC  page_view") for t in texts)
        assert all(b["wrap"] for b in card_of(teams_payload(context))["body"] if "text" in b)

    def test_actions_open_the_signed_links(self, context):
        actions = card_of(teams_payload(context))["actions"]

        assert [a["type"] for a in actions] == ["Action.OpenUrl"] * 4
        assert {a["title"]: a["url"] for a in actions} == {
            "Accept": context["links"]["accept"],
            "Reject": context["links"]["reject"],
            "Won": context["links"]["won"],
            "Open lead": context["links"]["lead"],
        }


class TestSend:
    def test_posts_the_card(self, httpserver, client, context):
        httpserver.expect_request("/workflows/hook", method="POST").respond_with_data("", 202)

        TeamsNotifier(client, httpserver.url_for("/workflows/hook")).send(context, None, "k")

        [(request, _)] = httpserver.log
        assert request.get_json() == teams_payload(context)

    def test_a_card_teams_cannot_read_is_permanent(self, httpserver, client, context):
        httpserver.expect_request("/hook").respond_with_data("Bad payload", status=400)

        with pytest.raises(NotificationRejected, match="teams: POST localhost: 400 Bad payload"):
            TeamsNotifier(client, httpserver.url_for("/hook")).send(context, None, "k")

    def test_throttling_is_retried(self, httpserver, client, context):
        httpserver.expect_request("/hook").respond_with_data("", 429, {"Retry-After": "7"})

        with pytest.raises(NotificationUnavailable) as caught:
            TeamsNotifier(client, httpserver.url_for("/hook")).send(context, None, "k")

        assert caught.value.retry_after == 7

    def test_without_a_url_the_error_names_the_setting(self, client, context):
        with pytest.raises(ChannelNotConfigured, match="teams: NURTURE_TEAMS_WEBHOOK_URL is not"):
            TeamsNotifier(client, None).send(context, None, "k")
