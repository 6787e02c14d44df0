"""make_provider: NURTURE_PROVIDER picks the provider, the other settings configure it."""

from collections.abc import Callable, Iterator

import pytest

from nurture.mail.providers import (
    MailgunProvider,
    OutboxProvider,
    PostmarkProvider,
    Provider,
    ResendProvider,
    SendGridProvider,
    SesProvider,
    SmtpProvider,
    make_provider,
)
from nurture.mail.providers._http import HttpProvider
from nurture.settings import Settings


def test_the_default_is_the_outbox_under_var_dir(tmp_path):
    provider = make_provider(Settings(var_dir=tmp_path / "var"))

    assert isinstance(provider, OutboxProvider)
    assert provider.directory == tmp_path / "var" / "outbox"


def test_smtp_takes_host_port_credentials_starttls_and_timeout():
    settings = Settings(
        provider="smtp",
        smtp_host="mail.example",
        smtp_port=587,
        smtp_username="nurture",
        smtp_password="s3cret",
        smtp_starttls=True,
        smtp_timeout_seconds=7.5,
    )

    provider = make_provider(settings)

    assert isinstance(provider, SmtpProvider)
    assert (provider.host, provider.port, provider.starttls, provider.timeout) == (
        "mail.example",
        587,
        True,
        7.5,
    )
    assert (provider.username, provider.password) == ("nurture", "s3cret")


@pytest.fixture
def built() -> Iterator[Callable[[Provider], Provider]]:
    """built(provider): the provider, closed after the test (HTTP ones hold a client)."""
    made: list[Provider] = []

    def keep(provider: Provider) -> Provider:
        made.append(provider)
        return provider

    yield keep
    for provider in made:
        if isinstance(provider, HttpProvider):
            provider.close()


def test_sendgrid_takes_its_key_base_url_and_the_http_timeout(built):
    settings = Settings(
        provider="sendgrid",
        sendgrid_api_key="SG.key",
        sendgrid_base_url="http://127.0.0.1:9001/",
        http_timeout_seconds=3.5,
    )

    provider = built(make_provider(settings))
    assert isinstance(provider, SendGridProvider)
    assert str(provider.client.base_url) == "http://127.0.0.1:9001"
    assert provider.client.headers["Authorization"] == "Bearer SG.key"
    timeout = provider.client.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3.5,) * 4


def test_mailgun_in_the_eu_region(built):
    settings = Settings(
        provider="mailgun", mailgun_api_key="k", mailgun_domain="mg.x.example", mailgun_region="eu"
    )

    provider = built(make_provider(settings))
    assert isinstance(provider, MailgunProvider)
    assert str(provider.client.base_url) == "https://api.eu.mailgun.net"
    assert provider.domain == "mg.x.example"


def test_postmark_takes_its_message_stream(built):
    settings = Settings(
        provider="postmark", postmark_server_token="t", postmark_message_stream="newsletters"
    )

    provider = built(make_provider(settings))
    assert isinstance(provider, PostmarkProvider)
    assert provider.message_stream == "newsletters"
    assert str(provider.client.base_url) == "https://api.postmarkapp.com"


def test_ses_uses_the_regional_endpoint_and_configuration_set(built):
    settings = Settings(
        provider="ses",
        ses_region="eu-west-1",
        ses_access_key_id="AKID",
        ses_secret_access_key="secret",
        ses_configuration_set="nurture-events",
    )

    provider = built(make_provider(settings))
    assert isinstance(provider, SesProvider)
    assert str(provider.client.base_url) == "https://email.eu-west-1.amazonaws.com"
    assert provider.configuration_set == "nurture-events"


def test_resend_takes_its_key(built):
    provider = built(make_provider(Settings(provider="resend", resend_api_key="re_1")))
    assert isinstance(provider, ResendProvider)
    assert provider.client.headers["Authorization"] == "Bearer re_1"
