"""Slack: the Block Kit message built from a handoff context, and the incoming webhook's
answers, against a real local server playing Slack."""

from __future__ import annotations

import httpx
import pytest

from nurture.handoff import (
    ChannelNotConfigured,
    NotificationRejected,
    NotificationUnavailable,
    SlackNotifier,
    slack_payload,
)
from nurture.handoff.http import make_client
from nurture.handoff.slack import HEADER_LIMIT, MAX_FIELDS, TEXT_LIMIT
from tests.handoff.conftest import handoff_context

HOOK = "/services/T000/B000/XXXX"


@pytest.fixture
def client():
    with make_client(5.0) as http:
        yield http


def fields_of(payload):
    [section] = [b for b in payload["blocks"] if "fields" in b]
    return {f["text"].split("\n", 1)[0].strip("*"): f["text"].split("\n", 1)[1]
            for f in section["fields"]}  # fmt: skip


class TestPayload:
    def test_header_names_the_stage_the_lead_and_the_company(self, context):
        header = slack_payload(context)["blocks"][0]

        assert header == {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "New MQL: Jordan Rivera (Northwind Traders)",
                "emoji": True,
            },
        }

    def test_the_owner_is_mentioned_in_the_blocks_and_the_text_fallback(self, context):
        payload = slack_payload(context)

        assert payload["blocks"][1]["text"]["text"].startswith("<@U024BE7LH> Assigned to Priya")
        assert "round robin in team sdr" in payload["blocks"][1]["text"]["text"]
        assert payload["text"].startswith("<@U024BE7LH> New MQL: Jordan Rivera")

    def test_fields_hold_who_company_title_stage_fit_and_engagement(self, context):
        fields = fields_of(slack_payload(context))

        assert fields["Who"] == "Jordan Rivera &lt;jordan@northwind.example&gt;"
        assert fields["Company"] == "Northwind Traders"
        assert fields["Title"] == "Head of Product"
        assert fields["Stage"] == "warm → mql"
        assert fields["Fit grade"] == "A (65 points)"
        assert fields["Engagement"] == "54.2"
        assert len(fields) <= MAX_FIELDS

    def test_the_reasons_and_last_activities_are_listed(self, context):
        texts = [b["text"]["text"] for b in slack_payload(context)["blocks"] if "text" in b]

        why = next(t for t in texts if t.startswith("*Why now*"))
        assert "• mql: fit in [A, B] and engagement &gt;= 50" in why
        assert "• pricing-page: +20 points (2 events)" in why
        activity = next(t for t in texts if t.startswith("*Last activity*"))
        assert "2026-11-23 15:00 UTC  page_view  https://lumen.example/pricing" in activity

    def test_buttons_open_the_signed_accept_and_reject_links(self, context):
        [actions] = [b for b in slack_payload(context)["blocks"] if b["type"] == "actions"]

        buttons = {e["text"]["text"]: e for e in actions["elements"]}
        assert buttons["Accept"]["url"] == context["links"]["accept"]
        assert buttons["Accept"]["style"] == "primary"
        assert buttons["Reject"]["url"] == context["links"]["reject"]
        assert buttons["Reject"]["style"] == "danger"
        assert all(e["type"] == "button" and e["action_id"] for e in actions["elements"])
        assert len({e["action_id"] for e in actions["elements"]}) == len(actions["elements"])

    def test_every_block_is_a_known_type_within_slacks_limits(self, context):
        long = handoff_context(lead=context["lead"] | {"name": "J" * 400, "title": "T" * 5000})

        for payload in (slack_payload(context), slack_payload(long)):
            for block in payload["blocks"]:
                assert block["type"] in {"header", "section", "actions"}
                if block["type"] == "header":
                    assert len(block["text"]["text"]) <= HEADER_LIMIT
                for text in [block.get("text"), *block.get("fields", [])]:
                    if text:
                        assert text["type"] in {"plain_text", "mrkdwn"} and text["text"]
                        assert len(text["text"]) <= TEXT_LIMIT
            assert 0 < len(payload["text"]) <= TEXT_LIMIT

    def test_a_reminder_and_a_reassignment_say_so(self, context):
        reminder = slack_payload(handoff_context(kind="reminder"))
        reassigned = slack_payload(handoff_context(kind="reassigned"))

        assert reminder["blocks"][0]["text"]["text"].startswith("Reminder: Jordan Rivera")
        assert reassigned["blocks"][0]["text"]["text"].startswith("Reassigned MQL: Jordan")
        assert "now belongs to Priya Shah" in reassigned["blocks"][1]["text"]["text"]

    def test_no_owner_and_no_account_still_make_a_message(self):
        payload = slack_payload(handoff_context(owner=None, account=None, activities=[]))

        assert "Nobody could be assigned" in payload["blocks"][1]["text"]["text"]
        assert not payload["text"].startswith("<@")
        texts = [b["text"]["text"] for b in payload["blocks"] if "text" in b]
        assert not any(text.startswith("*Last activity*") for text in texts)

    def test_slack_markup_in_lead_data_is_escaped(self):
        lead = handoff_context()["lead"] | {"name": "<!channel> & co"}
        payload = slack_payload(handoff_context(lead=lead))

        sections = [b for b in payload["blocks"] if b["type"] == "section"]
        mrkdwn = [payload["text"]] + [
            t["text"] for b in sections for t in [b.get("text"), *b.get("fields", [])] if t
        ]
        assert not any("<!channel>" in text for text in mrkdwn)  # plain_text shows it as is
        assert "&lt;!channel&gt; &amp; co" in fields_of(payload)["Who"]


class TestSend:
    def test_posts_the_payload_as_json_and_ok_is_delivered(self, httpserver, client, context):
        httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
        notifier = SlackNotifier(client, httpserver.url_for(HOOK))

        notifier.send(context, None, "handoff-12-slack")

        [(request, _)] = httpserver.log
        assert request.headers["Content-Type"] == "application/json"
        assert request.get_json() == slack_payload(context)

    def test_invalid_blocks_is_permanent_with_slacks_reason(self, httpserver, client, context):
        httpserver.expect_request(HOOK).respond_with_data("invalid_blocks", status=400)
        notifier = SlackNotifier(client, httpserver.url_for(HOOK))

        with pytest.raises(NotificationRejected) as caught:
            notifier.send(context, None, "k")

        assert str(caught.value) == "slack: POST localhost: 400 invalid_blocks"

    def test_a_removed_webhook_is_permanent(self, httpserver, client, context):
        httpserver.expect_request(HOOK).respond_with_data("no_service", status=404)

        with pytest.raises(NotificationRejected, match="404 no_service"):
            SlackNotifier(client, httpserver.url_for(HOOK)).send(context, None, "k")

    def test_rate_limited_is_retried_after_retry_after(self, httpserver, client, context):
        httpserver.expect_request(HOOK).respond_with_data(
            "rate_limited", status=429, headers={"Retry-After": "2"}
        )

        with pytest.raises(NotificationUnavailable) as caught:
            SlackNotifier(client, httpserver.url_for(HOOK)).send(context, None, "k")

        assert caught.value.retry_after == 2

    def test_a_server_that_never_answers_is_retried(self, context):
        def hang(request):
            raise httpx.ReadTimeout("timed out", request=request)

        with (
            httpx.Client(transport=httpx.MockTransport(hang)) as http,
            pytest.raises(NotificationUnavailable, match="timed out"),
        ):
            SlackNotifier(http, "https://hooks.slack.com/services/x").send(context, None, "k")

    def test_the_webhook_url_is_never_in_an_error(self, context):
        def fail(request):
            return httpx.Response(500, text="rollup_error")

        url = "https://hooks.slack.com/services/T000/B000/SECRET"
        with (
            httpx.Client(transport=httpx.MockTransport(fail)) as http,
            pytest.raises(NotificationUnavailable) as caught,
        ):
            SlackNotifier(http, url).send(context, None, "k")

        assert "SECRET" not in str(caught.value)
        assert str(caught.value) == "slack: POST hooks.slack.com: 500 rollup_error"


class TestWhichWebhook:
    def test_a_team_with_its_own_webhook_gets_its_notifications(self, client, context):
        notifier = SlackNotifier(
            client, "https://default", {"sdr": "https://sdr", "ae": "https://ae"}
        )

        assert notifier.url_for(context, None) == "https://sdr"
        assert notifier.url_for(context, "ae") == "https://ae"  # the recipient names a team
        assert notifier.url_for(handoff_context(owner=None), None) == "https://default"

    def test_no_url_for_the_row_is_a_clear_error(self, client, context):
        with pytest.raises(ChannelNotConfigured) as caught:
            SlackNotifier(client, None, {"ae": "https://ae"}).send(context, None, "k")

        assert str(caught.value) == (
            "slack: NURTURE_SLACK_WEBHOOK_URL is not set "
            "(and team 'sdr' is not in NURTURE_SLACK_TEAM_WEBHOOKS)"
        )
