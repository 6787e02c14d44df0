"""SendGrid Event Webhook: payloads in the documented format, signed with a P-256 key made
here, as SendGrid signs them (ECDSA/SHA-256 over timestamp + body, base64 DER)."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nurture.errors import WebhookMalformed, WebhookUnauthorized
from nurture.ingest import sendgrid
from nurture.ingest.events import EventType, json_event_id

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SG_ID = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


def signed(
    body: bytes, timestamp: int = TS, key: ec.EllipticCurvePrivateKey = KEY
) -> dict[str, Any]:
    signature = key.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": str(timestamp),
    }


def event(kind: str, **fields) -> dict[str, Any]:
    base = {
        "email": "Ada@Example.com",
        "timestamp": TS - 60,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": kind,
        "category": ["nurture"],
        "sg_event_id": f"evt-{kind}",
        "sg_message_id": SG_ID,
        "nurture_message_id": "42",
    }
    return base | fields


BATCH = [
    event("processed"),
    event("delivered", response="250 OK", ip="168.1.1.1", tls=1),
    event("deferred", response="400 try again later", attempt="5"),
    event("bounce", type="bounce", reason="550 5.1.1 user unknown", status="5.1.1"),
    event("bounce", sg_event_id="evt-blocked", type="blocked", reason="421 try later"),
    event("dropped", reason="Bounced Address", status="5.0.0"),
    event("open", useragent="Mozilla/5.0 (Windows NT 10.0)", ip="255.255.255.255"),
    event("open", sg_event_id="evt-mpp", useragent="Mozilla/5.0", sg_machine_open=True),
    event(
        "click",
        url="https://example.com/pricing",
        url_offset={"index": 0, "type": "html"},
        useragent="Mozilla/5.0 (Macintosh)",
        ip="203.0.113.9",
    ),
    event("spamreport"),
    event("unsubscribe"),
    event("group_unsubscribe", asm_group_id=10),
    event("group_resubscribe", asm_group_id=10),
]
BODY = json.dumps(BATCH).encode()


def parse(body: bytes = BODY, headers: dict[str, Any] | None = None, now: datetime = NOW):
    headers = signed(body) if headers is None else headers
    return sendgrid.parse(body, headers, now, public_key=PUBLIC)


class TestNormalise:
    def test_every_canonical_type_from_one_signed_batch(self):
        result = parse()
        assert [e.type for e in result.events] == [
            EventType.DELIVERED, EventType.DEFERRED, EventType.BOUNCED, EventType.BOUNCED,
            EventType.DROPPED, EventType.OPENED, EventType.OPENED, EventType.CLICKED,
            EventType.COMPLAINED, EventType.UNSUBSCRIBED, EventType.UNSUBSCRIBED,
        ]  # fmt: skip
        assert result.ignored == ("processed", "group_resubscribe")

    def test_common_fields_are_normalised(self):
        delivered = parse().events[0]
        assert delivered.provider == "sendgrid"
        assert delivered.provider_event_id == "evt-delivered"
        assert delivered.occurred_at == NOW - timedelta(seconds=60)
        assert delivered.recipient == "ada@example.com"
        assert delivered.our_message_id == 42
        assert delivered.provider_message_id == "14c5d75ce93.dfd.64b469"  # the X-Message-Id
        assert delivered.data == BATCH[1]

    def test_bounce_is_hard_and_blocked_is_soft(self):
        bounce, blocked = parse().events[2:4]
        assert (bounce.bounce, bounce.reason) == ("hard", "550 5.1.1 user unknown")
        assert (blocked.bounce, blocked.reason) == ("soft", "421 try later")

    def test_deferred_and_dropped_keep_their_reason(self):
        events = parse().events
        assert events[1].reason == "400 try again later"
        assert events[4].reason == "Bounced Address"

    def test_machine_open_flag_is_kept_as_reason(self):
        human, machine = parse().events[5:7]
        assert human.provider_machine is None
        assert human.user_agent == "Mozilla/5.0 (Windows NT 10.0)"
        assert machine.provider_machine == "sendgrid sg_machine_open"

    def test_click_carries_url_user_agent_and_ip(self):
        click = parse().events[7]
        assert click.url == "https://example.com/pricing"
        assert (click.user_agent, click.ip) == ("Mozilla/5.0 (Macintosh)", "203.0.113.9")

    def test_event_without_sg_event_id_gets_a_stable_hash_id(self):
        raw = {k: v for k, v in event("dropped", reason="Invalid").items() if k != "sg_event_id"}
        first = sendgrid.normalise([raw]).events[0]
        again = sendgrid.normalise([dict(reversed(list(raw.items())))]).events[0]
        assert first.provider_event_id == again.provider_event_id == json_event_id(raw)

    def test_message_id_from_legacy_unique_args_and_absent(self):
        raw = event("open", nurture_message_id=None, unique_args={"nurture_message_id": 7})
        assert sendgrid.normalise([raw]).events[0].our_message_id == 7
        assert (
            sendgrid.normalise([event("open", nurture_message_id="x")]).events[0].our_message_id
            is None
        )


class TestRefused:
    def test_forged_signature_from_another_key(self):
        with pytest.raises(WebhookUnauthorized, match="does not match"):
            parse(headers=signed(BODY, key=ec.generate_private_key(ec.SECP256R1())))

    def test_tampered_body(self):
        with pytest.raises(WebhookUnauthorized, match="does not match"):
            parse(BODY.replace(b"ada", b"eve").replace(b"Ada", b"Eve"), headers=signed(BODY))

    def test_unsigned_request(self):
        with pytest.raises(
            WebhookUnauthorized, match="missing X-Twilio-Email-Event-Webhook-Signature"
        ):
            parse(headers={})

    def test_signature_not_base64(self):
        headers = signed(BODY) | {"X-Twilio-Email-Event-Webhook-Signature": "not base64!"}
        with pytest.raises(WebhookUnauthorized, match="not base64"):
            parse(headers=headers)

    def test_replayed_request_outside_the_window(self):
        with pytest.raises(WebhookUnauthorized, match="301s old"):
            parse(headers=signed(BODY, TS - 301))

    def test_timestamp_in_the_future(self):
        with pytest.raises(WebhookUnauthorized, match="in the future"):
            parse(headers=signed(BODY, TS + 301))

    def test_edge_of_the_window_is_accepted(self):
        assert parse(headers=signed(BODY, TS - 300)).events

    def test_headers_are_case_insensitive(self):
        headers = {k.lower(): v for k, v in signed(BODY).items()}
        assert parse(headers=headers).events

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"[{", "not JSON"),
            (b'{"event": "open"}', "expected a JSON array"),
            (b'[{"timestamp": 1}]', r"event \[0\]: missing 'event'"),
            (b'[{"event": "open"}]', r"event \[0\]: missing 'timestamp'"),
            (b'["open"]', r"event \[0\]: expected a JSON object"),
            (b'[{"event": "open", "timestamp": "soon"}]', "expected epoch seconds"),
        ],
    )
    def test_malformed_but_signed_body(self, body, message):
        with pytest.raises(WebhookMalformed, match=message):
            parse(body)


@pytest.mark.parametrize(
    ("sg_message_id", "sent_id"),
    [
        ("14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "14c5d75ce93.dfd.64b469"),
        (
            "Bt0ZnH8nRpGbI6hrjH9g4A.filterdrecv-5645d9c87f-78xgx-1-5E0A3B9B-8.0",
            "Bt0ZnH8nRpGbI6hrjH9g4A",
        ),
        ("Bt0ZnH8nRpGbI6hrjH9g4A", "Bt0ZnH8nRpGbI6hrjH9g4A"),
    ],
)
def test_the_provider_message_id_is_what_mail_send_returned(sg_message_id, sent_id):
    """Old and new id formats: matching needs exactly the X-Message-Id we stored."""
    assert sendgrid._sent_id(sg_message_id) == sent_id
