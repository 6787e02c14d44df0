"""What every HTTP provider does when its API is busy, down, silent or unreachable: the same
mapping for all five, each against a real local server."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.providers import DeliveryUnknown
from tests.mail.providers.conftest import HTTP_PROVIDERS, free_port

NAMES = sorted(HTTP_PROVIDERS)


def path_of(name: str) -> str:
    return HTTP_PROVIDERS[name][0]


@pytest.mark.parametrize("name", NAMES)
class TestBusyOrDown:
    def test_429_is_retried_after_the_seconds_the_provider_asks(
        self, name, httpserver, http_provider, outgoing
    ):
        httpserver.expect_request(path_of(name), method="POST").respond_with_json(
            {"message": "Too many requests"}, status=429, headers={"Retry-After": "30"}
        )
        provider = http_provider(name, httpserver.url_for("/"))

        with pytest.raises(ProviderUnavailable) as caught:
            provider.send(outgoing())

        assert not isinstance(caught.value, DeliveryUnknown)
        assert caught.value.retry_after == 30
        assert "429" in str(caught.value)

    def test_429_with_an_http_date_waits_until_that_date_by_the_providers_clock(
        self, name, http_peer, http_provider, outgoing
    ):
        server_now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # not our clock: skew is fine
        retry_at = server_now + timedelta(minutes=2)
        peer = http_peer(
            reply=(
                "HTTP/1.1 429 Too Many Requests\r\n"
                f"Date: {format_datetime(server_now, usegmt=True)}\r\n"
                f"Retry-After: {format_datetime(retry_at, usegmt=True)}\r\n"
                "Content-Type: application/json\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\n{}"
            ).encode()
        )
        provider = http_provider(name, peer.url)

        with pytest.raises(ProviderUnavailable) as caught:
            provider.send(outgoing())

        assert caught.value.retry_after == 120

    def test_500_is_retried(self, name, httpserver, http_provider, outgoing):
        httpserver.expect_request(path_of(name)).respond_with_data("internal error", status=500)
        provider = http_provider(name, httpserver.url_for("/"))

        with pytest.raises(ProviderUnavailable) as caught:
            provider.send(outgoing())

        assert not isinstance(caught.value, DeliveryUnknown)
        assert "500" in str(caught.value) and caught.value.retry_after is None

    def test_a_wrong_api_key_waits_for_the_operator_instead_of_failing_the_message(
        self, name, httpserver, http_provider, outgoing
    ):
        httpserver.expect_request(path_of(name)).respond_with_json(
            {"message": "invalid credentials"}, status=401
        )
        provider = http_provider(name, httpserver.url_for("/"))

        with pytest.raises(ProviderUnavailable) as caught:
            provider.send(outgoing())

        assert "401" in str(caught.value) and "API key" in str(caught.value)

    def test_a_plain_404_is_a_refusal(self, name, httpserver, http_provider, outgoing):
        httpserver.expect_request(path_of(name)).respond_with_data("Not Found", status=404)
        provider = http_provider(name, httpserver.url_for("/"))

        with pytest.raises(ProviderRejected, match="404"):
            provider.send(outgoing())


@pytest.mark.parametrize("name", NAMES)
class TestConnection:
    def test_a_server_that_never_answers_may_have_the_message(
        self, name, http_peer, http_provider, outgoing
    ):
        peer = http_peer()
        provider = http_provider(name, peer.url, timeout=0.3)

        with pytest.raises(DeliveryUnknown, match="no answer"):
            provider.send(outgoing())

        [request] = peer.requests
        assert request.startswith(f"POST {path_of(name)} ".encode())

    def test_a_connection_dropped_after_the_request_may_have_the_message(
        self, name, http_peer, http_provider, outgoing
    ):
        peer = http_peer(hang_up=True)
        provider = http_provider(name, peer.url)

        with pytest.raises(DeliveryUnknown):
            provider.send(outgoing())

        assert len(peer.requests) == 1

    def test_connection_refused_is_retried_because_nothing_was_sent(
        self, name, http_provider, outgoing
    ):
        provider = http_provider(name, f"http://127.0.0.1:{free_port()}")

        with pytest.raises(ProviderUnavailable) as caught:
            provider.send(outgoing())

        assert not isinstance(caught.value, DeliveryUnknown)


@pytest.mark.parametrize("name", NAMES)
def test_no_provider_claims_a_lookup_it_cannot_do(name, http_provider):
    provider = http_provider(name, "http://127.0.0.1:9")

    assert provider.supports_lookup is False
    with pytest.raises(RuntimeError, match="cannot look messages up"):
        provider.find("nurture-1001")
