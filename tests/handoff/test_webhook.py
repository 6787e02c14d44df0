"""The signed CRM webhook: body, headers, and the verification snippet of
docs/notifications.md accepting what we send (and nothing else)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nurture.core.clock import FrozenClock
from nurture.handoff import ChannelNotConfigured, WebhookNotifier, signature, webhook_body
from nurture.handoff.http import make_client
from nurture.handoff.webhook import BODY_KEYS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
SECRET = "whsec-test-0123456789abcdef"
NOW = datetime(2026, 11, 23, 15, 0, 5, tzinfo=UTC)


def documented_verifier():
    """The function from the "Verifying the signature" section, executed as written."""
    section = DOCS.read_text().split("## Verifying the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "the verification snippet is missing from docs/notifications.md"
    namespace: dict[str, object] = {}
    exec(compile(code[1], str(DOCS), "exec"), namespace)
    return namespace["verify_nurture_signature"]


@pytest.fixture
def verify():
    return documented_verifier()


@pytest.fixture
def client():
    with make_client(5.0) as http:
        yield http


class TestBody:
    def test_carries_lead_account_stage_reason_owner_handoff_and_links(self, context):
        body = json.loads(webhook_body(context, "handoff-12-webhook"))

        assert set(body) == {*BODY_KEYS, "idempotency_key"}
        assert body["lead"] == context["lead"]
        assert body["account"] == context["account"]
        assert body["stage"] == "mql" and body["from_stage"] == "warm"
        assert body["reason"] == context["reason"]
        assert body["owner"] == context["owner"]
        assert body["handoff_id"] == 12
        assert body["links"] == context["links"]
        assert body["idempotency_key"] == "handoff-12-webhook"

    def test_is_compact_sorted_utf8(self, context):
        context["lead"]["name"] = "Jördan"
        body = webhook_body(context, "k")

        assert "Jördan".encode() in body
        assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False).encode()  # fmt: skip


class TestSignature:
    def test_the_documented_snippet_verifies_our_signature(self, verify, context):
        body = webhook_body(context, "k")
        header = signature(SECRET, 1795446000, body)

        assert re.fullmatch(r"t=1795446000,v1=[0-9a-f]{64}", header)
        assert verify(SECRET, body, header, now=1795446000 + 10)

    def test_the_snippet_refuses_a_changed_body_a_wrong_secret_or_an_old_timestamp(
        self, verify, context
    ):
        body = webhook_body(context, "k")
        header = signature(SECRET, 1795446000, body)

        assert not verify(SECRET, body.replace(b"Jordan", b"Jorge"), header, now=1795446000)
        assert not verify("another-secret-0123456789", body, header, now=1795446000)
        assert not verify(SECRET, body, header, now=1795446000 + 301)
        assert not verify(SECRET, body, "v1=abc", now=1795446000)
        assert not verify(SECRET, body, "garbage", now=1795446000)


class TestSend:
    def test_posts_the_signed_body_with_the_idempotency_key(
        self, httpserver, client, verify, context
    ):
        httpserver.expect_request("/crm/hooks", method="POST").respond_with_json({}, status=202)
        notifier = WebhookNotifier(
            client, httpserver.url_for("/crm/hooks"), SECRET, FrozenClock(NOW)
        )

        notifier.send(context, None, "handoff-12-webhook")

        [(request, _)] = httpserver.log
        raw = request.get_data()
        assert request.headers["X-Nurture-Idempotency-Key"] == "handoff-12-webhook"
        assert request.headers["Content-Type"] == "application/json"
        header = request.headers["X-Nurture-Signature"]
        assert header.startswith(f"t={int(NOW.timestamp())},v1=")
        assert verify(SECRET, raw, header, now=NOW.timestamp())
        assert raw == webhook_body(context, "handoff-12-webhook")

    def test_without_a_url_or_a_secret_nothing_is_sent(self, client, context):
        with pytest.raises(ChannelNotConfigured, match="NURTURE_CRM_WEBHOOK_URL is not set"):
            WebhookNotifier(client, None, SECRET).send(context, None, "k")
        with pytest.raises(ChannelNotConfigured, match="NURTURE_CRM_WEBHOOK_SECRET is not set"):
            WebhookNotifier(client, "http://127.0.0.1:9/x", None).send(context, None, "k")
