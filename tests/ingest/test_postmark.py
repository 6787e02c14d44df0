"""Postmark webhooks: one event per request, RecordType-tagged, as Postmark documents them,
authenticated with HTTP Basic credentials from the webhook URL."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from nurture.errors import WebhookMalformed, WebhookUnauthorized
from nurture.ingest import postmark
from nurture.ingest.events import EventType, json_event_id

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
AUTH = "postmark:s3cret-pass"


def basic(credentials: str = AUTH) -> dict[str, Any]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


COMMON = {
    "MessageStream": "outbound",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Tag": "welcome",
    "Metadata": {"nurture_message_id": "42"},
    "ServerID": 23,
}
DELIVERY = COMMON | {
    "RecordType": "Delivery",
    "Recipient": "Ada@Example.com",
    "DeliveredAt": "2026-03-02T11:59:00Z",
    "Details": "Test delivery webhook details",
}
BOUNCE = COMMON | {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Description": "The server was unable to deliver your message (ex: unknown user).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "ada@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2026-03-02T11:59:10.2735393-04:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Welcome",
}
COMPLAINT = BOUNCE | {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "TypeCode": 512}
GEO = {"CountryISOCode": "RS", "Country": "Serbia", "City": "Novi Sad", "IP": "188.2.95.4"}
OPEN = COMMON | {
    "RecordType": "Open",
    "FirstOpen": True,
    "Recipient": "ada@example.com",
    "ReceivedAt": "2026-03-02T11:59:54.9070259Z",
    "Platform": "WebMail",
    "ReadSeconds": 5,
    "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
    "OS": {"Name": "Windows 10", "Family": "Windows", "Company": "Microsoft"},
    "Client": {"Name": "Chrome 120", "Family": "Chrome", "Company": "Google"},
    "Geo": GEO,
}
CLICK = OPEN | {
    "RecordType": "Click",
    "ClickLocation": "HTML",
    "OriginalLink": "https://example.com/pricing",
}
del CLICK["FirstOpen"], CLICK["ReadSeconds"]
SUBSCRIPTION = COMMON | {
    "RecordType": "SubscriptionChange",
    "ChangedAt": "2026-03-02T11:58:34.416071Z",
    "Recipient": "ada@example.com",
    "Origin": "Recipient",
    "SuppressSending": True,
    "SuppressionReason": "ManualSuppression",
}


def parse(event: dict[str, Any] | bytes, headers: dict[str, Any] | None = None):
    raw = event if isinstance(event, bytes) else json.dumps(event).encode()
    return postmark.parse(raw, basic() if headers is None else headers, NOW, auth=AUTH)


def one(event: dict[str, Any]):
    (result,) = parse(event).events
    return result


class TestNormalise:
    def test_delivery(self):
        e = one(DELIVERY)
        assert e.type is EventType.DELIVERED
        assert e.provider == "postmark"
        assert e.recipient == "ada@example.com"
        assert e.our_message_id == 42
        assert e.provider_message_id == "883953f4-6105-42a2-a16a-77a8eac79483"
        assert e.occurred_at == datetime(2026, 3, 2, 11, 59, tzinfo=UTC)
        assert e.provider_event_id == json_event_id(DELIVERY)

    def test_hard_bounce(self):
        e = one(BOUNCE)
        assert (e.type, e.bounce) == (EventType.BOUNCED, "hard")
        assert e.reason.startswith("smtp;550 5.1.1")
        assert e.occurred_at == datetime(2026, 3, 2, 15, 59, 10, 273539, tzinfo=UTC)

    def test_transient_bounce_is_soft(self):
        e = one(BOUNCE | {"Type": "Transient", "TypeCode": 2, "Inactive": False})
        assert e.bounce == "soft"

    def test_unknown_bounce_type_that_deactivated_the_address_is_hard(self):
        assert one(BOUNCE | {"Type": "Blocked", "Inactive": True}).bounce == "hard"

    def test_auto_responder_is_not_a_bounce(self):
        result = parse(BOUNCE | {"Type": "AutoResponder", "Inactive": False})
        assert (result.events, result.ignored) == ((), ("Bounce:AutoResponder",))

    def test_spam_complaint(self):
        assert one(COMPLAINT).type is EventType.COMPLAINED

    def test_open(self):
        e = one(OPEN)
        assert e.type is EventType.OPENED
        assert (e.user_agent, e.ip) == (OPEN["UserAgent"], "188.2.95.4")
        assert e.provider_machine is None

    def test_click(self):
        e = one(CLICK)
        assert (e.type, e.url) == (EventType.CLICKED, "https://example.com/pricing")

    def test_manual_suppression_is_an_unsubscribe(self):
        e = one(SUBSCRIPTION)
        assert (e.type, e.reason) == (EventType.UNSUBSCRIBED, "ManualSuppression")

    def test_suppression_for_hard_bounce(self):
        e = one(SUBSCRIPTION | {"SuppressionReason": "HardBounce"})
        assert (e.type, e.bounce) == (EventType.BOUNCED, "hard")

    def test_reactivation_is_ignored(self):
        result = parse(SUBSCRIPTION | {"SuppressSending": False, "SuppressionReason": None})
        assert result.events == ()

    def test_unknown_record_type_is_ignored(self):
        assert parse({"RecordType": "Inbound"}).ignored == ("Inbound",)


class TestRefused:
    def test_missing_credentials(self):
        with pytest.raises(WebhookUnauthorized, match="missing Authorization"):
            parse(DELIVERY, headers={})

    def test_wrong_password(self):
        with pytest.raises(WebhookUnauthorized, match="credentials are wrong"):
            parse(DELIVERY, headers=basic("postmark:guess"))

    def test_wrong_scheme(self):
        with pytest.raises(WebhookUnauthorized, match="expected Basic"):
            parse(DELIVERY, headers={"Authorization": "Bearer abc"})

    def test_credentials_not_base64(self):
        with pytest.raises(WebhookUnauthorized, match="not base64"):
            parse(DELIVERY, headers={"authorization": "Basic %%%"})

    def test_error_never_shows_the_secret(self):
        with pytest.raises(WebhookUnauthorized) as caught:
            parse(DELIVERY, headers=basic("postmark:guess"))
        assert "s3cret" not in str(caught.value) and "guess" not in str(caught.value)

    @pytest.mark.parametrize(
        ("event", "message"),
        [
            (b"<xml/>", "not JSON"),
            ({"Recipient": "a@b.c"}, "missing 'RecordType'"),
            ({k: v for k, v in DELIVERY.items() if k != "DeliveredAt"}, "missing 'DeliveredAt'"),
            (DELIVERY | {"DeliveredAt": "2026-03-02 11:59"}, "no UTC offset"),
            (DELIVERY | {"DeliveredAt": "yesterday"}, "not an ISO 8601"),
        ],
    )
    def test_malformed(self, event, message):
        with pytest.raises(WebhookMalformed, match=message):
            parse(event)
