"""The one seam between sending logic and a mail provider (like an httpx transport).

    provider_id = provider.send(email)      # ProviderUnavailable: retry; ProviderRejected: don't

A provider is a plain object with ``name``, ``supports_lookup``, ``send`` and ``find``:

- ``send`` hands one message over and returns the provider's message id (stored on our row,
  so webhooks can be matched to it). Sending the same ``idempotency_key`` twice must not
  deliver twice where the provider can tell (outbox, memory, HTTP APIs with idempotency keys).
- ``find(key)`` answers the reconciler after a crash between our commit and the provider's
  answer: the provider id if a message with that key was accepted, None if it certainly was
  not. Providers that cannot tell (plain SMTP) set ``supports_lookup = False``; the
  reconciler then marks such rows ``unknown`` and never sends them again, and calling their
  ``find`` is a bug (RuntimeError).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from nurture.errors import ProviderUnavailable
from nurture.mail.message import OutgoingEmail


@runtime_checkable
class Provider(Protocol):
    name: str
    supports_lookup: bool

    def send(self, email: OutgoingEmail) -> str:
        """Hand over one message; the provider's message id, or a ``ProviderError``."""
        ...

    def find(self, idempotency_key: str) -> str | None:
        """Provider id of an accepted message with this key, None if certainly none."""
        ...


class DeliveryUnknown(ProviderUnavailable):
    """The connection failed after the message was handed over and before the provider
    answered: it may have been accepted. Retrying may deliver it twice; a caller keeping
    "one step, one email" resolves it with ``find`` or marks the message ``unknown``."""


def lookup_unsupported(provider: Provider) -> RuntimeError:
    return RuntimeError(
        f"provider {provider.name!r} cannot look messages up (supports_lookup is False); "
        "mark the message unknown instead of calling find()"
    )
