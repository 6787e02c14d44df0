"""The one event model every provider's webhook is normalised into.

Storage dedups on ``(provider, provider_event_id)``, so that id must be the same on every
retry of an event: the provider's own id where it gives one, else a hash of the event's own
JSON (``json_event_id``). Matching to our message goes ``our_message_id`` (the metadata we
attach on send) -> ``provider_message_id`` -> ``recipient``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from nurture.errors import WebhookMalformed

Bounce = Literal["hard", "soft"]

#: The metadata key we attach on send (custom_args, user-variables, Metadata, tags).
METADATA_KEY = "nurture_message_id"


class EventType(StrEnum):
    """Canonical engagement and delivery types."""

    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    OPENED = "opened"
    CLICKED = "clicked"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True)
class InboundEvent:
    """One provider event, normalised. ``data`` is the provider's raw event, for storage."""

    provider: str
    type: EventType
    provider_event_id: str
    occurred_at: datetime
    recipient: str | None = None
    our_message_id: int | None = None
    provider_message_id: str | None = None
    bounce: Bounce | None = None
    reason: str | None = None
    url: str | None = None
    user_agent: str | None = None
    ip: str | None = None
    provider_machine: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class WebhookResult:
    """What a verified webhook request carried.

    ``ignored`` names provider event types that have no canonical type (SendGrid
    ``processed``, Mailgun ``accepted``...): acknowledge them, store nothing.
    ``subscribe_url`` is set for an SNS SubscriptionConfirmation: the caller confirms it with
    ``nurture.ingest.ses.confirm_subscription`` (after its own checks), then answers 2xx.
    """

    events: tuple[InboundEvent, ...] = ()
    ignored: tuple[str, ...] = ()
    subscribe_url: str | None = None


def json_event_id(event: Any) -> str:
    """A stable id for a provider event that has none: SHA-256 of its canonical JSON
    (sorted keys, no spaces), so a retry of the same event hashes the same."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalise_email(value: object) -> str | None:
    """Lower-cased, trimmed address, or None when absent or not an address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    return email if "@" in email else None


def message_id_from(value: object) -> int | None:
    """Our message id from provider metadata: an int, a digit string, or a list holding one
    (SES tags); anything else is None (a foreign or tampered value must not match)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None


def text(value: object) -> str | None:
    """A non-empty string field, else None."""
    return value if isinstance(value, str) and value else None


def from_unix(value: object, what: str) -> datetime:
    """An aware UTC datetime from epoch seconds (int, float or numeric string)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise WebhookMalformed(f"{what}: expected epoch seconds, got {value!r}") from exc


def from_iso(value: object, what: str) -> datetime:
    """An aware UTC datetime from an ISO 8601 string with an offset or Z."""
    if not isinstance(value, str):
        raise WebhookMalformed(f"{what}: expected an ISO 8601 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise WebhookMalformed(f"{what}: not an ISO 8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise WebhookMalformed(f"{what}: timestamp has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def obj(value: object, what: str) -> dict[str, Any]:
    """``value`` as a JSON object, else WebhookMalformed naming ``what``."""
    if not isinstance(value, dict):
        raise WebhookMalformed(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def sub(parent: Mapping[str, Any], key: str) -> dict[str, Any]:
    """An optional nested object: ``{}`` when absent or not an object."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}
