"""PostmarkProvider against a local server answering like Postmark's /email API."""

from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.providers import PostmarkProvider

POSTMARK_ID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"


@pytest.fixture
def accepted(httpserver):
    httpserver.expect_request("/email", method="POST").respond_with_json(
        {
            "To": "jordan.rivera@northwind.example",
            "SubmittedAt": "2026-11-23T04:30:00.1234567-05:00",
            "MessageID": POSTMARK_ID,
            "ErrorCode": 0,
            "Message": "OK",
        }
    )
    return httpserver


def sent_json(server: HTTPServer) -> tuple[Request, Any]:
    [(request, _)] = server.log
    return request, request.get_json()


class TestRequest:
    def test_authenticates_with_the_server_token(self, accepted, http_provider, outgoing):
        http_provider("postmark", accepted.url_for("/")).send(outgoing())

        request, body = sent_json(accepted)
        assert request.headers["X-Postmark-Server-Token"] == "server-token-test"
        assert body["From"] == "Maya Chen <maya@lumen-analytics.example>"
        assert body["To"] == "jordan.rivera@northwind.example"
        assert body["Subject"] == "Welcome, Jordan"
        assert body["TextBody"].strip() == "Hi Jordan"
        assert body["HtmlBody"].strip() == "<p>Hi Jordan</p>"

    def test_goes_through_the_broadcast_stream_by_default(self, accepted, http_provider, outgoing):
        http_provider("postmark", accepted.url_for("/")).send(outgoing())

        assert sent_json(accepted)[1]["MessageStream"] == "broadcast"

    def test_the_configured_stream_is_used(self, accepted, outgoing):
        url = accepted.url_for("/").rstrip("/")
        with PostmarkProvider("t", message_stream="newsletters", base_url=url) as provider:
            provider.send(outgoing())

        assert sent_json(accepted)[1]["MessageStream"] == "newsletters"

    def test_our_message_id_rides_in_metadata(self, accepted, http_provider, outgoing):
        http_provider("postmark", accepted.url_for("/")).send(outgoing(1001))

        assert sent_json(accepted)[1]["Metadata"] == {"nurture_message_id": "1001"}

    def test_one_click_unsubscribe_headers_are_carried(self, accepted, http_provider, outgoing):
        http_provider("postmark", accepted.url_for("/")).send(outgoing(1001))

        headers = {h["Name"]: h["Value"] for h in sent_json(accepted)[1]["Headers"]}
        assert headers["List-Unsubscribe"].startswith("<https://nurture.test/u/")
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["X-Nurture-Message-Id"] == "1001"
        assert "From" not in headers and "Subject" not in headers


def test_records_postmarks_message_id(accepted, http_provider, outgoing):
    assert http_provider("postmark", accepted.url_for("/")).send(outgoing()) == POSTMARK_ID


def test_an_inactive_recipient_is_refused_with_postmarks_reason(
    httpserver, http_provider, outgoing
):
    httpserver.expect_request("/email").respond_with_json(
        {
            "ErrorCode": 406,
            "Message": "You tried to send to recipient(s) that have been marked as inactive.",
        },
        status=422,
    )

    with pytest.raises(ProviderRejected) as caught:
        http_provider("postmark", httpserver.url_for("/")).send(outgoing())

    assert "422 You tried to send to recipient(s) that have been marked as inactive." in str(
        caught.value
    )
    assert "Postmark error 406" in str(caught.value)


def test_an_account_that_may_not_send_is_retried_not_failed(httpserver, http_provider, outgoing):
    httpserver.expect_request("/email").respond_with_json(
        {"ErrorCode": 405, "Message": "Not allowed to send: you have run out of credits."},
        status=422,
    )

    with pytest.raises(ProviderUnavailable, match="Postmark error 405"):
        http_provider("postmark", httpserver.url_for("/")).send(outgoing())
