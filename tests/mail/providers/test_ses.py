"""SesProvider against a local server answering like the SES API v2 SendEmail, which checks
the SigV4 signature with its own code (stdlib hmac, not botocore) as AWS would."""

import base64
import hashlib
import hmac
import re
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from nurture.errors import ProviderRejected, ProviderUnavailable
from tests.mail.providers.conftest import SES_KEY_ID, SES_REGION, SES_SECRET

PATH = "/v2/email/outbound-emails"
SES_ID = "0102019a5e8f3c2b-7d1e4a90-1b2c-4d5e-8f90-123456789abc-000000"


def signature_problem(
    request: Request, secret: str = SES_SECRET, region: str = SES_REGION
) -> str | None:
    """None when the request carries a valid AWS SigV4 signature for SES, else why not."""
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
        r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})",
        request.headers.get("Authorization", ""),
    )
    if match is None:
        return "no SigV4 Authorization header"
    key_id, day, scope_region, service, signed_headers, signature = match.groups()
    if (key_id, scope_region, service) != (SES_KEY_ID, region, "ses"):
        return f"wrong scope {key_id}/{scope_region}/{service}"
    names = signed_headers.split(";")
    if not {"host", "x-amz-date"} <= set(names):
        return f"host and x-amz-date must be signed: {names}"
    canonical = "\n".join(
        [
            request.method,
            request.path,
            request.query_string.decode(),
            *(f"{name}:{request.headers[name].strip()}" for name in names),
            "",
            signed_headers,
            hashlib.sha256(request.get_data()).hexdigest(),
        ]
    )
    amz_date = request.headers["X-Amz-Date"]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            f"{day}/{region}/ses/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret}".encode()
    for part in (day, region, "ses", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "signature does not match"


@pytest.fixture
def accepted(httpserver):
    httpserver.expect_request(PATH, method="POST").respond_with_json({"MessageId": SES_ID})
    return httpserver


def sent_json(server: HTTPServer) -> tuple[Request, Any]:
    [(request, _)] = server.log
    return request, request.get_json()


class TestRequest:
    def test_is_signed_with_sigv4_for_ses_in_the_region(self, accepted, http_provider, outgoing):
        http_provider("ses", accepted.url_for("/")).send(outgoing())

        request, _ = sent_json(accepted)
        assert signature_problem(request) is None

    def test_a_signature_with_another_secret_does_not_verify(
        self, accepted, http_provider, outgoing
    ):
        http_provider("ses", accepted.url_for("/")).send(outgoing())

        request, _ = sent_json(accepted)
        assert signature_problem(request, secret="another") == "signature does not match"

    def test_the_raw_mime_goes_unchanged_to_the_lead(self, accepted, http_provider, outgoing):
        sent = outgoing(1001)
        http_provider("ses", accepted.url_for("/")).send(sent)

        _, body = sent_json(accepted)
        assert base64.b64decode(body["Content"]["Raw"]["Data"]) == sent.data
        assert body["Destination"] == {"ToAddresses": ["jordan.rivera@northwind.example"]}

    def test_one_click_unsubscribe_headers_are_in_the_raw_message(
        self, accepted, http_provider, outgoing
    ):
        http_provider("ses", accepted.url_for("/")).send(outgoing(1001))

        raw = base64.b64decode(sent_json(accepted)[1]["Content"]["Raw"]["Data"])
        assert b"\r\nList-Unsubscribe: <https://nurture.test/u/" in raw
        assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
        assert b"\r\nX-Nurture-Message-Id: 1001\r\n" in raw

    def test_our_message_id_is_an_email_tag_under_the_configuration_set(
        self, accepted, http_provider, outgoing
    ):
        http_provider("ses", accepted.url_for("/")).send(outgoing(1001))

        _, body = sent_json(accepted)
        assert body["EmailTags"] == [{"Name": "nurture_message_id", "Value": "1001"}]
        assert body["ConfigurationSetName"] == "nurture-events"


def test_records_the_ses_message_id(accepted, http_provider, outgoing):
    assert http_provider("ses", accepted.url_for("/")).send(outgoing()) == SES_ID


def test_a_rejected_message_carries_the_ses_reason(httpserver, http_provider, outgoing):
    httpserver.expect_request(PATH).respond_with_json(
        {"message": "Email address is not verified. The following identities failed the check"},
        status=400,
        headers={"x-amzn-ErrorType": "MessageRejected:http://internal.amazon.com/coral/sesv2/"},
    )

    with pytest.raises(ProviderRejected, match="400 MessageRejected: Email address is not"):
        http_provider("ses", httpserver.url_for("/")).send(outgoing())


@pytest.mark.parametrize("kind", ["SendingPausedException", "LimitExceededException"])
def test_account_level_refusals_are_retried_not_failed(kind, httpserver, http_provider, outgoing):
    httpserver.expect_request(PATH).respond_with_json(
        {"message": "Sending is paused for this account."},
        status=400,
        headers={"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/sesv2/"},
    )

    with pytest.raises(ProviderUnavailable, match=kind):
        http_provider("ses", httpserver.url_for("/")).send(outgoing())
