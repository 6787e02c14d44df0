"""Amazon SES events over SNS. The signing certificate is a self-signed RSA certificate made
here and served by a real local HTTP server; the certificate URL pattern allows that server
only. SNS messages are signed as SNS documents it (SignatureVersion 1: SHA1withRSA, 2:
SHA256withRSA, over ``name\\nvalue\\n`` per field in the documented order)."""

from datetime import UTC, datetime

from nurture.ingest.events import EventType
from tests.ingest.ses.conftest import MAIL, notification, parse, ses_event


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
