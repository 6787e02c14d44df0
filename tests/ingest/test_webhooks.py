"""The Webhooks entry point: configuration, size limit, dispatch, and the shared helpers."""

import base64
import json
from datetime import UTC, datetime

import pytest

import nurture.ingest
from nurture.errors import (
    InvalidInput,
    NotFound,
    WebhookMalformed,
    WebhookTooLarge,
    WebhookUnauthorized,
)
from nurture.ingest import MAX_BODY_BYTES, PROVIDERS, Webhooks, WebhookSecrets, check_size
from nurture.ingest.events import (
    EventType,
    from_unix,
    json_event_id,
    message_id_from,
    normalise_email,
)

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
POSTMARK = WebhookSecrets(postmark_auth="u:p")
DELIVERY = {"RecordType": "Delivery", "Recipient": "a@b.io", "MessageID": "m1",
            "DeliveredAt": "2026-03-02T11:59:00Z"}  # fmt: skip
AUTH = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}


class TestWebhookSecrets:
    def test_nothing_is_configured_by_default(self):
        assert not any(WebhookSecrets().configured(p) for p in PROVIDERS)

    def test_each_provider_is_enabled_by_its_own_secret(self):
        secrets = WebhookSecrets(
            sendgrid_public_key="k",
            mailgun_signing_key="k",
            postmark_auth="u:p",
            ses_topic_arns=frozenset({"arn:aws:sns:us-east-1:1:t"}),
            resend_secret="whsec_a2V5",
        )
        assert all(secrets.configured(p) for p in PROVIDERS)
        assert not secrets.configured("brevo")

    def test_repr_hides_secrets(self):
        assert "hunter2" not in repr(WebhookSecrets(postmark_auth="u:hunter2"))


class TestWebhooks:
    def test_unconfigured_provider_is_not_found(self):
        with pytest.raises(NotFound, match="'sendgrid'"):
            Webhooks(POSTMARK).parse("sendgrid", b"[]", {}, NOW)

    def test_dispatches_to_the_provider(self):
        result = Webhooks(POSTMARK).parse("postmark", json.dumps(DELIVERY).encode(), AUTH, NOW)
        assert [e.type for e in result.events] == [EventType.DELIVERED]

    def test_oversized_body_is_refused_before_authentication(self):
        hooks = Webhooks(POSTMARK, max_body_bytes=100)
        with pytest.raises(WebhookTooLarge, match="101 bytes; the limit is 100"):
            hooks.parse("postmark", b"x" * 101, {}, NOW)

    def test_close_is_safe_without_a_client(self):
        Webhooks(POSTMARK).close()


class TestHelpers:
    def test_check_size_default_limit(self):
        check_size(b"x" * MAX_BODY_BYTES)
        with pytest.raises(WebhookTooLarge):
            check_size(b"x" * (MAX_BODY_BYTES + 1))

    def test_webhook_errors_are_invalid_input(self):
        for error in (WebhookUnauthorized, WebhookMalformed, WebhookTooLarge):
            assert issubclass(error, InvalidInput)

    def test_json_event_id_ignores_key_order_but_not_values(self):
        assert json_event_id({"a": 1, "b": [1, 2]}) == json_event_id({"b": [1, 2], "a": 1})
        assert json_event_id({"a": 1}) != json_event_id({"a": 2})

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(42, 42), ("42", 42), (" 7 ", 7), (["9"], 9), ([], None), (True, None),
         (0, None), ("-3", None), ("abc", None), (None, None), (4.2, None)],
    )  # fmt: skip
    def test_message_id_is_tolerant_of_string_and_int(self, value, expected):
        assert message_id_from(value) == expected

    def test_normalise_email(self):
        assert normalise_email("  Ada@Example.COM ") == "ada@example.com"
        assert normalise_email("not an address") is None
        assert normalise_email(None) is None

    def test_from_unix_is_aware_utc(self):
        assert from_unix("1772452800", "t") == NOW
        with pytest.raises(WebhookMalformed, match="t: expected epoch seconds"):
            from_unix("tomorrow", "t")

    def test_exported_names_are_the_public_api(self):
        assert set(nurture.ingest.__all__) == {
            "DEFAULT_CERT_URL_PATTERN", "DEFAULT_TOLERANCE_SECONDS", "MAX_BODY_BYTES",
            "PROVIDERS", "EventType", "InboundEvent", "MemoryTokenCache", "SnsCertificates",
            "TokenCache", "WebhookResult", "WebhookSecrets", "Webhooks", "check_size",
            "json_event_id",
        }  # fmt: skip
        assert all(hasattr(nurture.ingest, name) for name in nurture.ingest.__all__)
