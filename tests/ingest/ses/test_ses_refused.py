"""SNS envelopes around SES events: subscription confirmation, and every way a request is
refused before anything is fetched or stored (certificate URL, topic, signature)."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from nurture.errors import WebhookMalformed, WebhookUnauthorized, WebhookVerifierUnavailable
from nurture.ingest import ses
from nurture.ingest.sns import DEFAULT_CERT_URL_PATTERN, SnsCertificates
from tests.ingest.ses.conftest import TOPIC, notification, parse, ses_event, sign


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
