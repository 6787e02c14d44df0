"""Resend webhooks, delivered by Svix: payloads as Resend documents them, signed with a
``whsec_`` secret made here (base64 HMAC-SHA256 of ``id.timestamp.body``)."""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from nurture.errors import WebhookMalformed, WebhookUnauthorized
from nurture.ingest import resend
from nurture.ingest.events import EventType

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
RAW_KEY = secrets.token_bytes(24)
SECRET = "whsec_" + base64.b64encode(RAW_KEY).decode()


def sign(raw: bytes, msg_id: str, timestamp: int, key: bytes = RAW_KEY) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(raw: bytes, msg_id: str = "msg_2bQ9xq", timestamp: int = TS, **kw) -> dict[str, Any]:
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(timestamp),
        "svix-signature": sign(raw, msg_id, timestamp, **kw),
    }


def event(kind: str, **data) -> dict[str, Any]:
    base = {
        "created_at": "2026-03-02T11:59:00.000Z",
        "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
        "from": "Acme <onboarding@resend.dev>",
        "to": ["Ada@Example.com"],
        "subject": "Welcome",
        "tags": [{"name": "nurture_message_id", "value": "42"}],
    }
    return {"type": kind, "created_at": "2026-03-02T11:59:30.000Z", "data": base | data}


def parse(payload: dict[str, Any] | bytes, hdrs: dict[str, Any] | None = None):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return resend.parse(raw, headers(raw) if hdrs is None else hdrs, NOW, secret=SECRET)


def one(payload: dict[str, Any]):
    (result,) = parse(payload).events
    return result


class TestNormalise:
    def test_delivered(self):
        e = one(event("email.delivered"))
        assert e.type is EventType.DELIVERED
        assert e.provider_event_id == "msg_2bQ9xq"
        assert e.recipient == "ada@example.com"
        assert e.our_message_id == 42
        assert e.provider_message_id == "56761188-7520-42d8-8898-ff6fc54ce618"
        assert e.occurred_at == datetime(2026, 3, 2, 11, 59, 30, tzinfo=UTC)

    def test_delivery_delayed_is_deferred(self):
        assert one(event("email.delivery_delayed")).type is EventType.DEFERRED

    def test_permanent_bounce_is_hard(self):
        bounce = {
            "message": "The recipient's email address does not exist.",
            "subType": "General",
            "type": "Permanent",
        }
        e = one(event("email.bounced", bounce=bounce))
        assert (e.type, e.bounce, e.reason) == (EventType.BOUNCED, "hard", bounce["message"])

    def test_transient_bounce_is_soft(self):
        e = one(event("email.bounced", bounce={"type": "Transient", "subType": "MailboxFull"}))
        assert (e.bounce, e.reason) == ("soft", "MailboxFull")

    def test_complained(self):
        assert one(event("email.complained")).type is EventType.COMPLAINED

    def test_opened(self):
        e = one(event("email.opened"))
        assert (e.type, e.provider_machine) == (EventType.OPENED, None)

    def test_clicked_uses_the_click_object(self):
        click = {
            "ipAddress": "122.115.53.11",
            "link": "https://resend.com",
            "timestamp": "2026-03-02T11:59:45.000Z",
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        }
        e = one(event("email.clicked", click=click))
        assert (e.url, e.ip, e.user_agent) == (
            click["link"],
            click["ipAddress"],
            click["userAgent"],
        )
        assert e.occurred_at == datetime(2026, 3, 2, 11, 59, 45, tzinfo=UTC)

    def test_failed_and_suppressed_are_dropped(self):
        failed = one(event("email.failed", failed={"reason": "reached_daily_quota"}))
        assert (failed.type, failed.reason) == (EventType.DROPPED, "reached_daily_quota")
        suppressed = one(event("email.suppressed", suppressed={"message": "on suppression list"}))
        assert (suppressed.type, suppressed.reason) == (EventType.DROPPED, "on suppression list")

    def test_tags_as_an_object_are_read_too(self):
        assert one(event("email.opened", tags={"nurture_message_id": 9})).our_message_id == 9

    def test_several_recipients_leave_recipient_unset(self):
        assert one(event("email.opened", to=["a@x.io", "b@x.io"])).recipient is None

    def test_sent_and_other_types_are_ignored(self):
        assert parse(event("email.sent")).ignored == ("email.sent",)
        assert parse({"type": "contact.created", "data": {}}).ignored == ("contact.created",)


class TestRefused:
    def test_forged_signature(self):
        raw = json.dumps(event("email.opened")).encode()
        with pytest.raises(WebhookUnauthorized, match="does not match"):
            parse(raw, headers(raw, key=b"wrong"))

    def test_one_matching_signature_among_several_is_enough(self):
        raw = json.dumps(event("email.opened")).encode()
        good = headers(raw)
        rotated = good | {
            "svix-signature": sign(raw, "msg_2bQ9xq", TS, key=b"old")
            + " "
            + good["svix-signature"]
            + " v2,ignored"
        }
        assert parse(raw, rotated).events

    def test_signature_for_another_message_id(self):
        raw = json.dumps(event("email.opened")).encode()
        with pytest.raises(WebhookUnauthorized, match="does not match"):
            parse(raw, headers(raw) | {"svix-id": "msg_other"})

    def test_stale_timestamp(self):
        raw = json.dumps(event("email.opened")).encode()
        with pytest.raises(WebhookUnauthorized, match="svix-timestamp is 600s old"):
            parse(raw, headers(raw, timestamp=TS - 600))

    @pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
    def test_missing_header(self, missing):
        raw = json.dumps(event("email.opened")).encode()
        hdrs = {k: v for k, v in headers(raw).items() if k != missing}
        with pytest.raises(WebhookUnauthorized, match=f"missing {missing}"):
            parse(raw, hdrs)

    def test_no_v1_signature(self):
        raw = json.dumps(event("email.opened")).encode()
        with pytest.raises(WebhookUnauthorized, match="no v1"):
            parse(raw, headers(raw) | {"svix-signature": "v2,abc"})

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            (b"{", "not JSON"),
            ({"data": {}}, "missing 'type'"),
            ({"type": "email.opened", "data": []}, "'data': expected a JSON object"),
            ({"type": "email.opened", "data": {}}, "expected an ISO 8601 timestamp"),
        ],
    )
    def test_malformed(self, payload, message):
        with pytest.raises(WebhookMalformed, match=message):
            parse(payload)
