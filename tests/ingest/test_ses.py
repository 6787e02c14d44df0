"""Amazon SES events over SNS. The signing certificate is a self-signed RSA certificate made
here and served by a real local HTTP server; the certificate URL pattern allows that server
only. SNS messages are signed as SNS documents it (SignatureVersion 1: SHA1withRSA, 2:
SHA256withRSA, over ``name\\nvalue\\n`` per field in the documented order)."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from nurture.errors import WebhookMalformed, WebhookUnauthorized, WebhookVerifierUnavailable
from nurture.ingest import ses
from nurture.ingest.events import EventType
from nurture.ingest.sns import DEFAULT_CERT_URL_PATTERN, SnsCertificates

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
CERT_PEM = (
    x509.CertificateBuilder()
    .subject_name(NAME)
    .issuer_name(NAME)
    .public_key(KEY.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(NOW - timedelta(days=1))
    .not_valid_after(NOW + timedelta(days=365))
    .sign(KEY, hashes.SHA256())
    .public_bytes(serialization.Encoding.PEM)
)
NOTIFICATION_ORDER = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRM_ORDER = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def sign(
    message: dict[str, Any], version: str = "2", key: rsa.RSAPrivateKey = KEY
) -> dict[str, Any]:
    order = NOTIFICATION_ORDER if message["Type"] == "Notification" else CONFIRM_ORDER
    text = "".join(f"{k}\n{message[k]}\n" for k in order if k in message)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return message | {
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
    }


@pytest.fixture
def cert_url(httpserver):
    httpserver.expect_request("/SimpleNotificationService-abc.pem").respond_with_data(CERT_PEM)
    return httpserver.url_for("/SimpleNotificationService-abc.pem")


@pytest.fixture
def certs(httpserver):
    return SnsCertificates("^" + re.escape(httpserver.url_for("/")))


def notification(ses_event: dict[str, Any], cert_url: str, version: str = "2", **fields) -> bytes:
    message = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-03-02T11:59:59.655Z",
        "SigningCertURL": cert_url,
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    } | fields
    return json.dumps(sign(message, version)).encode()


MAIL = {
    "timestamp": "2026-03-02T11:58:00.012Z",
    "source": "Sender <sender@example.com>",
    "sendingAccountId": "123456789012",
    "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
    "destination": ["Ada@Example.com"],
    "headersTruncated": False,
    "headers": [
        {"name": "From", "value": "sender@example.com"},
        {"name": "X-Nurture-Message-Id", "value": "41"},
    ],
    "tags": {"ses:configuration-set": ["nurture"], "nurture_message_id": ["42"]},
}


def ses_event(
    kind: str, detail_key: str | None = None, detail: dict[str, Any] | None = None, **extra
):
    event = {"eventType": kind, "mail": MAIL} | extra
    if detail_key:
        event[detail_key] = detail or {}
    return event


def parse(raw: bytes, certs: SnsCertificates, topics=(TOPIC,)):
    return ses.parse(raw, {}, NOW, certs=certs, topic_arns=frozenset(topics))


class TestNormalise:
    def test_delivery(self, cert_url, certs):
        detail = {
            "timestamp": "2026-03-02T11:58:01.000Z",
            "processingTimeMillis": 546,
            "recipients": ["Ada@Example.com"],
            "smtpResponse": "250 ok",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        }
        (e,) = parse(
            notification(ses_event("Delivery", "delivery", detail), cert_url), certs
        ).events
        assert e.type is EventType.DELIVERED
        assert e.provider == "ses"
        assert e.provider_event_id == "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"
        assert e.occurred_at == datetime(2026, 3, 2, 11, 58, 1, tzinfo=UTC)
        assert e.recipient == "ada@example.com"
        assert e.our_message_id == 42  # from the tag, before the header
        assert e.provider_message_id == MAIL["messageId"]

    def test_permanent_bounce_of_two_recipients_is_two_hard_bounces(self, cert_url, certs):
        detail = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2026-03-02T11:59:02.669Z",
            "feedbackId": "0100015",
            "bouncedRecipients": [
                {
                    "emailAddress": "ada@example.com",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                },
                {"emailAddress": "bob@example.com", "action": "failed", "status": "5.1.1"},
            ],
        }
        events = parse(notification(ses_event("Bounce", "bounce", detail), cert_url), certs).events
        assert [(e.recipient, e.bounce, e.reason) for e in events] == [
            ("ada@example.com", "hard", "smtp; 550 5.1.1 user unknown"),
            ("bob@example.com", "hard", "General"),
        ]
        assert events[0].provider_event_id.endswith(":ada@example.com")

    def test_transient_bounce_is_soft(self, cert_url, certs):
        detail = {
            "bounceType": "Transient",
            "bounceSubType": "MailboxFull",
            "timestamp": "2026-03-02T11:59:02Z",
            "bouncedRecipients": [{"emailAddress": "ada@example.com"}],
        }
        (e,) = parse(notification(ses_event("Bounce", "bounce", detail), cert_url), certs).events
        assert e.bounce == "soft"

    def test_legacy_notification_type_and_header_message_id(self, cert_url, certs):
        mail = MAIL | {"tags": {}}
        event = {
            "notificationType": "Complaint",
            "mail": mail,
            "complaint": {
                "complainedRecipients": [{"emailAddress": "ada@example.com"}],
                "timestamp": "2026-03-02T11:59:00Z",
                "complaintFeedbackType": "abuse",
            },
        }
        (e,) = parse(notification(event, cert_url), certs).events
        assert (e.type, e.reason, e.our_message_id) == (EventType.COMPLAINED, "abuse", 41)

    def test_open_and_click(self, cert_url, certs):
        ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
        opened = ses_event(
            "Open",
            "open",
            {"ipAddress": "192.0.2.1", "timestamp": "2026-03-02T11:59:10Z", "userAgent": ua},
        )
        (o,) = parse(notification(opened, cert_url), certs).events
        assert (o.type, o.ip, o.user_agent, o.recipient) == (
            EventType.OPENED,
            "192.0.2.1",
            ua,
            "ada@example.com",
        )
        clicked = ses_event(
            "Click",
            "click",
            {
                "ipAddress": "192.0.2.1",
                "userAgent": ua,
                "timestamp": "2026-03-02T11:59:20Z",
                "link": "https://example.com/demo",
                "linkTags": {"samplekey0": ["samplevalue0"]},
            },
        )
        (c,) = parse(notification(clicked, cert_url), certs).events
        assert (c.type, c.url) == (EventType.CLICKED, "https://example.com/demo")

    def test_reject_is_dropped(self, cert_url, certs):
        (e,) = parse(
            notification(ses_event("Reject", "reject", {"reason": "Bad content"}), cert_url), certs
        ).events
        assert (e.type, e.reason, e.occurred_at) == (
            EventType.DROPPED,
            "Bad content",
            datetime(2026, 3, 2, 11, 58, 0, 12000, tzinfo=UTC),
        )

    def test_delivery_delay_is_deferred(self, cert_url, certs):
        detail = {
            "timestamp": "2026-03-02T11:59:30Z",
            "delayType": "TransientCommunicationFailure",
            "expirationTime": "2026-03-03T11:58:00Z",
            "delayedRecipients": [
                {
                    "emailAddress": "ada@example.com",
                    "status": "4.4.1",
                    "diagnosticCode": "smtp; 421 4.4.1 Unable to connect",
                }
            ],
        }
        (e,) = parse(
            notification(ses_event("DeliveryDelay", "deliveryDelay", detail), cert_url), certs
        ).events
        assert (e.type, e.reason) == (EventType.DEFERRED, "smtp; 421 4.4.1 Unable to connect")

    def test_subscription_opt_out_is_an_unsubscribe(self, cert_url, certs):
        detail = {
            "contactList": "Newsletter",
            "timestamp": "2026-03-02T11:59:40Z",
            "source": "UnsubscribeHeader",
            "newTopicPreferences": {"unsubscribeAll": True, "topicSubscriptionStatus": []},
            "oldTopicPreferences": {"unsubscribeAll": False},
        }
        (e,) = parse(
            notification(ses_event("Subscription", "subscription", detail), cert_url), certs
        ).events
        assert e.type is EventType.UNSUBSCRIBED

    def test_send_is_ignored(self, cert_url, certs):
        result = parse(notification(ses_event("Send", "send"), cert_url), certs)
        assert (result.events, result.ignored) == ((), ("Send",))

    def test_signature_version_1(self, cert_url, certs):
        raw = notification(ses_event("Send", "send"), cert_url, version="1", Subject="hello")
        assert parse(raw, certs).ignored == ("Send",)


class TestSubscription:
    def test_confirmation_asks_the_caller_to_confirm(self, httpserver, cert_url, certs):
        subscribe = httpserver.url_for("/confirm") + "?Action=ConfirmSubscription&Token=2336"
        message = {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9",
            "Token": "2336412f37",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": subscribe,
            "Timestamp": "2026-03-02T11:59:00.000Z",
            "SigningCertURL": cert_url,
        }
        result = parse(json.dumps(sign(message)).encode(), certs)
        assert (result.events, result.subscribe_url) == ((), subscribe)
        httpserver.expect_request(
            "/confirm", query_string={"Action": "ConfirmSubscription", "Token": "2336"}
        ).respond_with_data("<ok/>")
        ses.confirm_subscription(subscribe, certs=certs)
        assert [r.path for r, _ in httpserver.log][-1] == "/confirm"

    def test_confirming_a_foreign_url_is_refused_without_a_request(self, httpserver, certs):
        with pytest.raises(WebhookUnauthorized, match="SubscribeURL"):
            ses.confirm_subscription("https://evil.example/confirm", certs=certs)
        assert httpserver.log == []

    def test_unsubscribe_confirmation_is_ignored(self, cert_url, certs):
        message = {
            "Type": "UnsubscribeConfirmation",
            "MessageId": "47138184",
            "Token": "t",
            "TopicArn": TOPIC,
            "Message": "You have unsubscribed.",
            "SubscribeURL": cert_url,
            "Timestamp": "2026-03-02T11:59:00Z",
            "SigningCertURL": cert_url,
        }
        result = parse(json.dumps(sign(message)).encode(), certs)
        assert (result.ignored, result.subscribe_url) == (("UnsubscribeConfirmation",), None)


class TestRefused:
    def test_forged_signature(self, cert_url, certs):
        raw = json.loads(notification(ses_event("Send"), cert_url))
        forged = sign(raw, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        with pytest.raises(WebhookUnauthorized, match=r"Signature \(version 2\) does not match"):
            parse(json.dumps(forged).encode(), certs)

    def test_tampered_message(self, cert_url, certs):
        raw = json.loads(notification(ses_event("Send"), cert_url))
        raw["Message"] = raw["Message"].replace("Send", "Bounce")
        with pytest.raises(WebhookUnauthorized, match="does not match"):
            parse(json.dumps(raw).encode(), certs)

    def test_cert_url_outside_the_pattern_is_not_fetched(self, httpserver, certs):
        raw = notification(ses_event("Send"), "https://attacker.example/cert.pem")
        with pytest.raises(WebhookUnauthorized, match=r"SigningCertURL .* does not match"):
            parse(raw, certs)
        assert httpserver.log == []

    def test_topic_not_allowed_is_refused_before_any_fetch(self, httpserver, cert_url, certs):
        with pytest.raises(WebhookUnauthorized, match=r"TopicArn .* not in the allowed"):
            parse(notification(ses_event("Send"), cert_url), certs, topics=("arn:other",))
        assert httpserver.log == []

    def test_unknown_signature_version(self, cert_url, certs):
        raw = json.loads(notification(ses_event("Send"), cert_url)) | {"SignatureVersion": "3"}
        with pytest.raises(WebhookUnauthorized, match="SignatureVersion '3'"):
            parse(json.dumps(raw).encode(), certs)

    def test_certificate_is_fetched_once_per_url(self, httpserver, cert_url, certs):
        for _ in range(3):
            parse(notification(ses_event("Send"), cert_url), certs)
        assert len(httpserver.log) == 1

    def test_unreachable_certificate_asks_for_a_retry(self, httpserver, certs):
        httpserver.expect_request("/gone.pem").respond_with_data("nope", status=500)
        with pytest.raises(WebhookVerifierUnavailable, match="answered 500"):
            parse(notification(ses_event("Send"), httpserver.url_for("/gone.pem")), certs)

    def test_message_that_is_not_json(self, cert_url, certs):
        raw = json.loads(notification(ses_event("Send"), cert_url))
        raw = sign(raw | {"Message": "plain text"})
        with pytest.raises(WebhookMalformed, match="SNS Message is not JSON"):
            parse(json.dumps(raw).encode(), certs)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (b"Type=Notification", "not JSON"),
            (b'{"Type": "Weird"}', "not a known SNS message type"),
            (b'{"Type": "Notification", "Message": "{}"}', "missing MessageId, Signature"),
        ],
    )
    def test_malformed_envelope(self, raw, message, certs):
        with pytest.raises(WebhookMalformed, match=message):
            parse(raw, certs)


class TestDefaultPattern:
    @pytest.mark.parametrize(
        ("url", "allowed"),
        [
            ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", True),
            ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem", True),
            ("https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-a.pem", True),
            ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", False),
            ("https://sns.us-east-1.amazonaws.com.evil.io/cert.pem", False),
            ("https://sns.us-east-1.amazonaws.com@evil.io/cert.pem", False),
            ("https://evil.io/sns.us-east-1.amazonaws.com/cert.pem", False),
            ("https://s3.amazonaws.com/cert.pem", False),
        ],
    )
    def test_only_sns_hosts_over_https(self, url, allowed):
        assert SnsCertificates(DEFAULT_CERT_URL_PATTERN).allowed(url) is allowed
