"""make_provider: NURTURE_PROVIDER picks the provider, the other settings configure it."""

from nurture.mail.providers import OutboxProvider, SmtpProvider, make_provider
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
