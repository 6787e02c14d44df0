"""Send providers behind one small protocol; ``make_provider`` picks one from settings.

outbox   .eml files under var/outbox/ (the default for local work)
smtp     any SMTP server, STARTTLS and AUTH when configured
memory   in-memory, for tests and benchmarks (NURTURE_PROVIDER=memory)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nurture.mail.providers.base import DeliveryUnknown, Provider
from nurture.mail.providers.memory import MemoryProvider
from nurture.mail.providers.outbox import OutboxProvider
from nurture.mail.providers.smtp import SmtpProvider

if TYPE_CHECKING:
    from nurture.settings import Settings

__all__ = [
    "DeliveryUnknown",
    "MemoryProvider",
    "OutboxProvider",
    "Provider",
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
    raise RuntimeError(f"no provider named {settings.provider!r}")  # settings validate this
