"""Signed tokens: a round trip works, and any change to a token, key or purpose is refused."""

import re

import pytest

from nurture.errors import BadToken, InvalidInput
from nurture.mail.tokens import (
    UNSUBSCRIBE,
    UnsubscribeClaim,
    sign,
    sign_unsubscribe,
    verify,
    verify_unsubscribe,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
PAYLOAD = "lead:42:msg:1001"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class TestRoundTrip:
    def test_verify_returns_the_signed_payload(self):
        token = sign(UNSUBSCRIBE, PAYLOAD, KEY)

        assert verify(UNSUBSCRIBE, token, KEY) == PAYLOAD

    def test_a_token_is_url_safe_and_unpadded(self):
        token = sign(UNSUBSCRIBE, PAYLOAD, KEY)

        assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)

    def test_signing_is_deterministic(self):
        assert sign(UNSUBSCRIBE, PAYLOAD, KEY) == sign(UNSUBSCRIBE, PAYLOAD, KEY)

    @pytest.mark.parametrize("payload", ["", "é→☃", "a.b.c", "x" * 300])
    def test_any_payload_survives(self, payload):
        assert verify("click", sign("click", payload, KEY), KEY) == payload


class TestTampering:
    def test_changing_any_single_character_is_refused(self):
        token = sign(UNSUBSCRIBE, PAYLOAD, KEY)

        for at, original in enumerate(token):
            for replacement in {"A", "B", "_", ".", "="} - {original}:
                tampered = token[:at] + replacement + token[at + 1 :]
                with pytest.raises(BadToken):
                    verify(UNSUBSCRIBE, tampered, KEY)

    def test_a_changed_payload_with_the_old_signature_is_refused(self):
        token = sign(UNSUBSCRIBE, PAYLOAD, KEY)
        forged = sign(UNSUBSCRIBE, "lead:43:msg:1001", KEY).split(".")[0]

        with pytest.raises(BadToken, match="signature"):
            verify(UNSUBSCRIBE, f"{forged}.{token.split('.')[1]}", KEY)

    @pytest.mark.parametrize("cut", [1, 5, 20])
    def test_a_truncated_token_is_refused(self, cut):
        token = sign(UNSUBSCRIBE, PAYLOAD, KEY)

        with pytest.raises(BadToken):
            verify(UNSUBSCRIBE, token[:-cut], KEY)

    @pytest.mark.parametrize("extra", ["A", "=", "==", " ", "\n", ".A"])
    def test_anything_appended_is_refused(self, extra):
        token = sign(UNSUBSCRIBE, PAYLOAD, KEY)

        with pytest.raises(BadToken):
            verify(UNSUBSCRIBE, token + extra, KEY)

    def test_a_token_for_another_purpose_is_refused(self):
        token = sign("click", PAYLOAD, KEY)

        with pytest.raises(BadToken):
            verify(UNSUBSCRIBE, token, KEY)

    def test_a_token_signed_with_another_key_is_refused(self):
        token = sign(UNSUBSCRIBE, PAYLOAD, OTHER_KEY)

        with pytest.raises(BadToken):
            verify(UNSUBSCRIBE, token, KEY)

    @pytest.mark.parametrize(
        "token", ["", ".", "abc", "a.b.c", "!!!.???", "bGVhZA.", ".bGVhZA", "bGVhZA==.AAAA"]
    )
    def test_malformed_input_is_refused(self, token):
        with pytest.raises(BadToken):
            verify(UNSUBSCRIBE, token, KEY)

    def test_a_non_canonical_spelling_of_the_same_bytes_is_refused(self):
        payload, mac = sign(UNSUBSCRIBE, "a", KEY).split(".")  # "a" → "YQ": 4 unused bits
        assert payload == "YQ"

        with pytest.raises(BadToken):
            verify(UNSUBSCRIBE, f"YR.{mac}", KEY)  # decodes to b"a" too

    def test_bad_token_is_invalid_input(self):
        with pytest.raises(InvalidInput):
            verify(UNSUBSCRIBE, "nope", KEY)


class TestMisuse:
    @pytest.mark.parametrize("purpose", ["", "un\x00subscribe"])
    def test_an_unusable_purpose_is_a_programming_error(self, purpose):
        with pytest.raises(ValueError, match="purpose"):
            sign(purpose, PAYLOAD, KEY)

    def test_an_empty_key_is_a_programming_error(self):
        with pytest.raises(ValueError, match="key"):
            sign(UNSUBSCRIBE, PAYLOAD, b"")


class TestUnsubscribeTokens:
    def test_the_claim_names_the_lead_and_message(self):
        token = sign_unsubscribe(42, 1001, KEY)

        assert verify_unsubscribe(token, KEY) == UnsubscribeClaim(lead_id=42, message_id=1001)
        assert verify(UNSUBSCRIBE, token, KEY) == PAYLOAD

    def test_a_signed_unsubscribe_token_with_another_payload_is_refused(self):
        token = sign(UNSUBSCRIBE, "lead:42", KEY)

        with pytest.raises(BadToken, match="not an unsubscribe token"):
            verify_unsubscribe(token, KEY)

    def test_a_click_token_cannot_unsubscribe(self):
        with pytest.raises(BadToken):
            verify_unsubscribe(sign("click", PAYLOAD, KEY), KEY)
