"""ResendProvider against a local server answering like Resend's /emails API."""

from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from nurture.errors import ProviderRejected, ProviderUnavailable

RESEND_ID = "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"


@pytest.fixture
def accepted(httpserver):
    httpserver.expect_request("/emails", method="POST").respond_with_json({"id": RESEND_ID})
    return httpserver


def sent_json(server: HTTPServer) -> tuple[Request, Any]:
    [(request, _)] = server.log
    return request, request.get_json()


class TestRequest:
    def test_posts_json_with_the_bearer_key(self, accepted, http_provider, outgoing):
        http_provider("resend", accepted.url_for("/")).send(outgoing())

        request, body = sent_json(accepted)
        assert request.headers["Authorization"] == "Bearer re_test_key"
        assert body["from"] == "Maya Chen <maya@lumen-analytics.example>"
        assert body["to"] == ["jordan.rivera@northwind.example"]
        assert body["subject"] == "Welcome, Jordan"
        assert body["text"].strip() == "Hi Jordan"
        assert body["html"].strip() == "<p>Hi Jordan</p>"

    def test_sends_our_idempotency_key(self, accepted, http_provider, outgoing):
        http_provider("resend", accepted.url_for("/")).send(outgoing(1001))

        assert sent_json(accepted)[0].headers["Idempotency-Key"] == "nurture-1001"

    def test_our_message_id_rides_in_tags(self, accepted, http_provider, outgoing):
        http_provider("resend", accepted.url_for("/")).send(outgoing(1001))

        assert sent_json(accepted)[1]["tags"] == [{"name": "nurture_message_id", "value": "1001"}]

    def test_one_click_unsubscribe_headers_are_carried(self, accepted, http_provider, outgoing):
        http_provider("resend", accepted.url_for("/")).send(outgoing(1001))

        headers = sent_json(accepted)[1]["headers"]
        assert headers["List-Unsubscribe"].startswith("<https://nurture.test/u/")
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["X-Nurture-Message-Id"] == "1001"


def test_records_resends_id(accepted, http_provider, outgoing):
    assert http_provider("resend", accepted.url_for("/")).send(outgoing()) == RESEND_ID


def test_a_refusal_carries_resends_reason(httpserver, http_provider, outgoing):
    httpserver.expect_request("/emails").respond_with_json(
        {
            "statusCode": 422,
            "message": "Invalid `to` field. The email address needs to follow the "
            "`email@example.com` or `Name <email@example.com>` format.",
            "name": "validation_error",
        },
        status=422,
    )

    with pytest.raises(ProviderRejected, match="422 validation_error: Invalid `to` field"):
        http_provider("resend", httpserver.url_for("/")).send(outgoing())


def test_a_first_request_still_running_with_our_key_is_retried(httpserver, http_provider, outgoing):
    httpserver.expect_request("/emails").respond_with_json(
        {
            "statusCode": 409,
            "message": "Same idempotency key used while original request is still in progress.",
            "name": "concurrent_idempotent_requests",
        },
        status=409,
    )

    with pytest.raises(ProviderUnavailable, match="concurrent_idempotent_requests"):
        http_provider("resend", httpserver.url_for("/")).send(outgoing())


def test_our_key_reused_with_another_payload_is_refused(httpserver, http_provider, outgoing):
    httpserver.expect_request("/emails").respond_with_json(
        {
            "statusCode": 409,
            "message": "Same idempotency key used with a different request payload.",
            "name": "invalid_idempotent_request",
        },
        status=409,
    )

    with pytest.raises(ProviderRejected, match="invalid_idempotent_request"):
        http_provider("resend", httpserver.url_for("/")).send(outgoing())
