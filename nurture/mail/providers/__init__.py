"""Send providers behind one small protocol; ``make_provider`` picks one from settings.

outbox   .eml files under var/outbox/ (the default for local work)
smtp     any SMTP server, STARTTLS and AUTH when configured
memory   in-memory, for tests and benchmarks (NURTURE_PROVIDER=memory)
sendgrid, mailgun, postmark, ses, resend   their HTTP APIs (docs/providers.md)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nurture.mail.providers.base import DeliveryUnknown, Provider
from nurture.mail.providers.mailgun import MailgunProvider
from nurture.mail.providers.memory import MemoryProvider
from nurture.mail.providers.outbox import OutboxProvider
from nurture.mail.providers.postmark import PostmarkProvider
from nurture.mail.providers.resend import ResendProvider
from nurture.mail.providers.sendgrid import SendGridProvider
from nurture.mail.providers.ses import SesProvider
from nurture.mail.providers.smtp import SmtpProvider

if TYPE_CHECKING:
    from nurture.settings import Settings

__all__ = [
    "DeliveryUnknown",
    "MailgunProvider",
    "MemoryProvider",
    "OutboxProvider",
    "PostmarkProvider",
    "Provider",
    "ResendProvider",
    "SendGridProvider",
    "SesProvider",
    "SmtpProvider",
    "make_provider",
]


def make_provider(settings: Settings) -> Provider:
    """The provider ``NURTURE_PROVIDER`` names, configured from the other settings."""
    if settings.provider == "outbox":
        return OutboxProvider(settings.var_dir / "outbox")
    if settings.provider == "memory":
        return MemoryProvider()
    if settings.provider == "smtp":
        return SmtpProvider(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    http = _make_http_provider(settings)
    if http is None:
        raise RuntimeError(f"no provider named {settings.provider!r}")  # settings validate this
    return http


def _make_http_provider(settings: Settings) -> Provider | None:
    """The HTTP API providers; Settings has already checked their required values."""
    timeout = settings.http_timeout_seconds
    if settings.provider == "sendgrid":
        return SendGridProvider(
            _required(settings.sendgrid_api_key),
            base_url=settings.sendgrid_base_url,
            timeout=timeout,
        )
    if settings.provider == "mailgun":
        return MailgunProvider(
            _required(settings.mailgun_api_key),
            _required(settings.mailgun_domain),
            region=settings.mailgun_region,
            base_url=settings.mailgun_base_url,
            timeout=timeout,
        )
    if settings.provider == "postmark":
        return PostmarkProvider(
            _required(settings.postmark_server_token),
            message_stream=settings.postmark_message_stream,
            base_url=settings.postmark_base_url,
            timeout=timeout,
        )
    if settings.provider == "ses":
        return SesProvider(
            _required(settings.ses_region),
            _required(settings.ses_access_key_id),
            _required(settings.ses_secret_access_key),
            configuration_set=settings.ses_configuration_set,
            base_url=settings.ses_base_url,
            timeout=timeout,
        )
    if settings.provider == "resend":
        return ResendProvider(
            _required(settings.resend_api_key), base_url=settings.resend_base_url, timeout=timeout
        )
    return None


def _required(value: str | None) -> str:
    if not value:
        raise RuntimeError("settings let a provider through without its required value")
    return value
