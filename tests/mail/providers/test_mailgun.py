"""MailgunProvider against a local server answering like Mailgun's messages.mime API."""

import base64
import email
from email.policy import default as default_policy

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from nurture.errors import ProviderRejected
from nurture.mail.providers import MailgunProvider
from tests.mail.providers.conftest import MAILGUN_DOMAIN

PATH = f"/v3/{MAILGUN_DOMAIN}/messages.mime"
MAILGUN_ID = f"<20261123093000.1.5A3F9C@{MAILGUN_DOMAIN}>"


@pytest.fixture
def accepted(httpserver):
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"id": MAILGUN_ID, "message": "Queued. Thank you."}
    )
    return httpserver


def sent_request(server: HTTPServer) -> tuple[Request, dict[str, str], bytes]:
    """(request, form fields, the message file's bytes); werkzeug's spooled files closed."""
    [(request, _)] = server.log
    form = dict(request.form)
    upload = request.files["message"]
    try:
        return request, form, upload.read()
    finally:
        upload.close()


class TestRequest:
    def test_basic_auth_is_api_and_the_key(self, accepted, http_provider, outgoing):
        http_provider("mailgun", accepted.url_for("/")).send(outgoing())

        request, _, _ = sent_request(accepted)
        scheme, _, token = request.headers["Authorization"].partition(" ")
        assert (scheme, base64.b64decode(token)) == ("Basic", b"api:key-test")

    def test_the_mime_bytes_go_unchanged_to_the_lead(self, accepted, http_provider, outgoing):
        sent = outgoing(1001)
        http_provider("mailgun", accepted.url_for("/")).send(sent)

        _, form, message = sent_request(accepted)
        assert form["to"] == "jordan.rivera@northwind.example"
        assert message == sent.data

    def test_our_message_id_is_a_user_variable(self, accepted, http_provider, outgoing):
        http_provider("mailgun", accepted.url_for("/")).send(outgoing(1001))

        assert sent_request(accepted)[1]["v:nurture_message_id"] == "1001"

    def test_one_click_unsubscribe_headers_are_in_the_message(
        self, accepted, http_provider, outgoing
    ):
        http_provider("mailgun", accepted.url_for("/")).send(outgoing(1001))

        raw = sent_request(accepted)[2]
        received = email.message_from_bytes(raw, policy=default_policy)
        assert received["List-Unsubscribe"].startswith("<https://nurture.test/u/")
        assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert received["X-Nurture-Message-Id"] == "1001"


def test_records_mailguns_id_without_angle_brackets(accepted, http_provider, outgoing):
    provider_id = http_provider("mailgun", accepted.url_for("/")).send(outgoing())

    assert provider_id == MAILGUN_ID.strip("<>")


def test_a_refusal_carries_mailguns_reason(httpserver, http_provider, outgoing):
    httpserver.expect_request(PATH).respond_with_json(
        {"message": "to parameter is not a valid address. please check documentation"},
        status=400,
    )

    with pytest.raises(ProviderRejected, match="400 to parameter is not a valid address"):
        http_provider("mailgun", httpserver.url_for("/")).send(outgoing())


@pytest.mark.parametrize(
    ("region", "host"), [("us", "api.mailgun.net"), ("eu", "api.eu.mailgun.net")]
)
def test_the_region_picks_the_api_host(region, host):
    with MailgunProvider("key-test", MAILGUN_DOMAIN, region=region) as provider:
        assert str(provider.client.base_url) == f"https://{host}"


def test_a_base_url_overrides_the_region():
    with MailgunProvider(
        "key-test", MAILGUN_DOMAIN, region="eu", base_url="http://127.0.0.1:8025"
    ) as provider:
        assert str(provider.client.base_url) == "http://127.0.0.1:8025"
