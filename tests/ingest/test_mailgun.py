"""Mailgun webhooks: JSON bodies as Mailgun documents them, signed with an HMAC key made
here (hex HMAC-SHA256 of timestamp + token); a token is accepted once."""

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from nurture.errors import WebhookMalformed, WebhookUnauthorized
from nurture.ingest import mailgun
from nurture.ingest.events import EventType
from nurture.ingest.verify import MemoryTokenCache

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
KEY = secrets.token_hex(16)


def body(
    event_data: dict[str, Any], timestamp: int = TS, key: str = KEY, token: str | None = None
) -> bytes:
    token = token or secrets.token_hex(25)
    digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    signature = {"timestamp": str(timestamp), "token": token, "signature": digest}
    return json.dumps({"signature": signature, "event-data": event_data}).encode()


def event(kind: str, **fields) -> dict[str, Any]:
    base = {
        "event": kind,
        "id": f"G9Bn5sl1TC6nu79C8C0bwg-{kind}",
        "timestamp": TS - 30.123,
        "recipient": "Ada@Example.com",
        "recipient-domain": "example.com",
        "tags": [],
        "envelope": {"sender": "bob@mg.example.com", "transport": "smtp"},
        "message": {
            "headers": {
                "message-id": "20260302120000.1.ABC@mg.example.com",
                "to": "Ada@Example.com",
                "subject": "Hi",
            }
        },
        "user-variables": {"nurture_message_id": 42},
        "flags": {"is-test-mode": False},
    }
    return base | fields


def parse(raw: bytes, tokens: MemoryTokenCache | None = None):
    return mailgun.parse(raw, {}, NOW, signing_key=KEY, tokens=tokens or MemoryTokenCache())


def one(event_data: dict[str, Any]):
    (result,) = parse(body(event_data)).events
    return result


class TestNormalise:
    def test_delivered(self):
        e = one(event("delivered", **{"delivery-status": {"code": 250, "message": "OK"}}))
        assert e.type is EventType.DELIVERED
        assert e.provider_event_id == f"G9Bn5sl1TC6nu79C8C0bwg-delivered:{TS - 31}"
        assert e.recipient == "ada@example.com"
        assert e.our_message_id == 42
        assert e.provider_message_id == "20260302120000.1.ABC@mg.example.com"
        assert e.occurred_at.timestamp() == pytest.approx(TS - 30.123)

    def test_permanent_failure_is_a_hard_bounce_with_reason(self):
        status = {
            "code": 550,
            "message": "5.1.1 mailbox unknown",
            "description": "Not delivering to previously bounced address",
        }
        e = one(
            event("failed", severity="permanent", reason="bounce", **{"delivery-status": status})
        )
        assert (e.type, e.bounce) == (EventType.BOUNCED, "hard")
        assert e.reason == "Not delivering to previously bounced address"

    def test_temporary_failure_is_deferred(self):
        e = one(
            event(
                "failed",
                severity="temporary",
                reason="generic",
                **{"delivery-status": {"code": 452, "message": "mailbox full"}},
            )
        )
        assert (e.type, e.bounce, e.reason) == (EventType.DEFERRED, None, "mailbox full")

    def test_suppressed_failure_is_dropped(self):
        e = one(event("failed", severity="permanent", reason="suppress-bounce"))
        assert e.type is EventType.DROPPED

    def test_gave_up_after_retries_is_a_soft_bounce(self):
        assert one(event("failed", severity="permanent", reason="old")).bounce == "soft"

    def test_rejected_is_dropped(self):
        e = one(event("rejected", reject={"reason": "Sandbox subdomains are for test purposes"}))
        assert (e.type, e.reason) == (EventType.DROPPED, "Sandbox subdomains are for test purposes")

    def test_opened_by_a_person(self):
        client = {
            "client-type": "browser",
            "client-os": "Linux",
            "device-type": "desktop",
            "client-name": "Firefox",
            "user-agent": "Mozilla/5.0 (X11; Linux)",
            "bot": "",
        }
        e = one(event("opened", ip="50.56.129.169", **{"client-info": client}))
        assert e.type is EventType.OPENED
        assert (e.user_agent, e.ip, e.provider_machine) == (
            "Mozilla/5.0 (X11; Linux)",
            "50.56.129.169",
            None,
        )

    def test_opened_by_a_bot_keeps_mailguns_flag(self):
        e = one(event("opened", **{"client-info": {"bot": "apple", "user-agent": "Mozilla/5.0"}}))
        assert e.provider_machine == "mailgun client-info.bot=apple"

    def test_gmail_proxy_is_not_a_machine(self):
        e = one(event("opened", **{"client-info": {"bot": "gmail"}}))
        assert e.provider_machine is None

    def test_clicked(self):
        e = one(
            event(
                "clicked",
                url="https://example.com/demo",
                ip="203.0.113.1",
                **{"client-info": {"user-agent": "Mozilla/5.0 (iPhone)"}},
            )
        )
        assert (e.type, e.url, e.ip) == (
            EventType.CLICKED,
            "https://example.com/demo",
            "203.0.113.1",
        )

    def test_complained_and_unsubscribed(self):
        assert one(event("complained")).type is EventType.COMPLAINED
        assert one(event("unsubscribed")).type is EventType.UNSUBSCRIBED

    def test_accepted_is_ignored(self):
        result = parse(body(event("accepted")))
        assert (result.events, result.ignored) == ((), ("accepted",))

    def test_user_variable_as_string(self):
        e = one(event("delivered", **{"user-variables": {"nurture_message_id": "17"}}))
        assert e.our_message_id == 17


class TestRefused:
    def test_forged_signature(self):
        with pytest.raises(WebhookUnauthorized, match="does not match"):
            parse(body(event("opened"), key="not-the-key"))

    def test_unsigned_body(self):
        raw = json.dumps({"event-data": event("opened")}).encode()
        with pytest.raises(WebhookUnauthorized, match="missing 'signature'"):
            parse(raw)

    def test_stale_timestamp(self):
        with pytest.raises(WebhookUnauthorized, match="replay window"):
            parse(body(event("opened"), timestamp=TS - 3600))

    def test_reused_token_is_refused(self):
        tokens = MemoryTokenCache()
        raw = body(event("opened"), token="t" * 50)
        assert parse(raw, tokens).events
        with pytest.raises(WebhookUnauthorized, match="already used"):
            parse(raw, tokens)

    def test_malformed_event_does_not_spend_the_token(self):
        tokens = MemoryTokenCache()
        with pytest.raises(WebhookMalformed, match="missing 'event'"):
            parse(body({"timestamp": TS}, token="u" * 50), tokens)
        assert parse(body(event("opened"), token="u" * 50), tokens).events

    @pytest.mark.parametrize(
        ("raw", "error", "message"),
        [
            (b"signature=abc&token=def", WebhookMalformed, "not JSON"),
            (b"[]", WebhookMalformed, "body: expected a JSON object"),
        ],
    )
    def test_malformed_body(self, raw, error, message):
        with pytest.raises(error, match=message):
            parse(raw)

    def test_missing_event_data(self):
        raw = body(event("opened")).replace(b'"event-data"', b'"data"')
        with pytest.raises(WebhookMalformed, match="'event-data': expected a JSON object"):
            parse(raw)


class TestMemoryTokenCache:
    def test_token_is_forgotten_after_its_ttl(self):
        clock = [0.0]
        cache = MemoryTokenCache(ttl=10, clock=lambda: clock[0])
        assert cache.seen("a") is False
        assert cache.seen("a") is True
        clock[0] = 10.5
        assert cache.seen("a") is False

    def test_oldest_token_is_dropped_past_the_size_limit(self):
        cache = MemoryTokenCache(max_size=2)
        for token in "abc":
            cache.seen(token)
        assert cache.seen("a") is False
        assert cache.seen("c") is True
