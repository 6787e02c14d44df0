"""SendGridProvider against a local server answering like the v3 Mail Send API."""

from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from nurture.errors import ProviderRejected

PATH = "/v3/mail/send"
SENDGRID_ID = "W86EgYT6SQKk0lRflfLRsA"


@pytest.fixture
def accepted(httpserver):
    """SendGrid's answer to a good request: 202, empty body, the id in X-Message-Id."""
    httpserver.expect_request(PATH, method="POST").respond_with_response(
        Response(b"", status=202, headers={"X-Message-Id": SENDGRID_ID})
    )
    return httpserver


def sent_json(server: HTTPServer) -> tuple[Request, Any]:
    [(request, _)] = server.log
    return request, request.get_json()


class TestRequest:
    def test_posts_json_with_the_bearer_key(self, accepted, http_provider, outgoing):
        http_provider("sendgrid", accepted.url_for("/")).send(outgoing())

        request, body = sent_json(accepted)
        assert request.headers["Authorization"] == "Bearer SG.test-key"
        assert body["personalizations"] == [{"to": [{"email": "jordan.rivera@northwind.example"}]}]
        assert body["from"] == {"email": "maya@lumen-analytics.example", "name": "Maya Chen"}
        assert body["subject"] == "Welcome, Jordan"

    def test_text_comes_before_html_as_sendgrid_requires(self, accepted, http_provider, outgoing):
        http_provider("sendgrid", accepted.url_for("/")).send(outgoing())

        _, body = sent_json(accepted)
        assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
        assert body["content"][1]["value"].strip() == "<p>Hi Jordan</p>"

    def test_our_message_id_rides_in_custom_args(self, accepted, http_provider, outgoing):
        http_provider("sendgrid", accepted.url_for("/")).send(outgoing(1001))

        _, body = sent_json(accepted)
        assert body["custom_args"] == {"nurture_message_id": "1001"}

    def test_one_click_unsubscribe_and_correlation_headers_are_carried(
        self, accepted, http_provider, outgoing
    ):
        email = outgoing(1001)
        http_provider("sendgrid", accepted.url_for("/")).send(email)

        _, body = sent_json(accepted)
        headers = body["headers"]
        assert headers["List-Unsubscribe"] == str(email.mime["List-Unsubscribe"])
        assert headers["List-Unsubscribe"].startswith("<https://nurture.test/u/")
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["X-Nurture-Message-Id"] == "1001"
        assert headers["Message-ID"] == "<nurture.1001@lumen-analytics.example>"

    def test_headers_sendgrid_reserves_are_not_sent(self, accepted, http_provider, outgoing):
        http_provider("sendgrid", accepted.url_for("/")).send(outgoing())

        _, body = sent_json(accepted)
        reserved = {"from", "to", "subject", "content-type", "reply-to", "mime-version"}
        assert not reserved & {name.lower() for name in body["headers"]}


def test_records_the_x_message_id_sendgrid_answers(accepted, http_provider, outgoing):
    assert http_provider("sendgrid", accepted.url_for("/")).send(outgoing()) == SENDGRID_ID


def test_a_refusal_carries_sendgrids_reason(httpserver, http_provider, outgoing):
    httpserver.expect_request(PATH).respond_with_json(
        {
            "errors": [
                {
                    "message": "Does not contain a valid address.",
                    "field": "personalizations.0.to.0.email",
                    "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html",
                }
            ]
        },
        status=400,
    )

    with pytest.raises(ProviderRejected) as caught:
        http_provider("sendgrid", httpserver.url_for("/")).send(outgoing())

    assert "400 Does not contain a valid address. (personalizations.0.to.0.email)" in str(
        caught.value
    )
