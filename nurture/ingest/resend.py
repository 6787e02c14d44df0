"""Resend webhooks (delivered by Svix): signature check and normalisation.

Svix signs ``{svix-id}.{svix-timestamp}.{body}`` with HMAC-SHA256 under the base64 key after
``whsec_``; ``svix-signature`` holds space-separated ``v1,<base64>`` entries (several during a
secret rotation), any one of which may match. ``svix-id`` is the same on every retry of a
message, so it is the event id. Resend gives no unsubscribe event for sent email and no
machine/bot flag; ``email.failed`` and ``email.suppressed`` (not sent) are dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nurture.errors import WebhookMalformed, WebhookUnauthorized
from nurture.ingest.events import (
    METADATA_KEY,
    Bounce,
    EventType,
    InboundEvent,
    WebhookResult,
    from_iso,
    message_id_from,
    normalise_email,
    obj,
    sub,
    text,
)
from nurture.ingest.verify import (
    DEFAULT_TOLERANCE_SECONDS,
    check_timestamp,
    parse_json,
    require_header,
)

PROVIDER = "resend"
SECRET_PREFIX = "whsec_"

TYPES: dict[str, EventType] = {
    "email.delivered": EventType.DELIVERED,
    "email.delivery_delayed": EventType.DEFERRED,
    "email.bounced": EventType.BOUNCED,
    "email.failed": EventType.DROPPED,
    "email.suppressed": EventType.DROPPED,
    "email.opened": EventType.OPENED,
    "email.clicked": EventType.CLICKED,
    "email.complained": EventType.COMPLAINED,
}

#: The object inside ``data`` with the engagement's own time, link, IP and user agent.
DETAIL = {EventType.CLICKED: "click", EventType.OPENED: "open"}


def _key(secret: str) -> bytes:
    """The HMAC key: base64 after ``whsec_``. A bad secret is a settings mistake."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the Resend webhook secret is not whsec_ followed by base64") from exc


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    secret: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Raise WebhookUnauthorized unless one ``v1`` signature matches; return ``svix-id``."""
    msg_id = require_header(headers, "svix-id")
    timestamp = require_header(headers, "svix-timestamp")
    signatures = require_header(headers, "svix-signature")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    candidates = [
        sig.encode()
        for version, _, sig in (entry.partition(",") for entry in signatures.split())
        if version == "v1"
    ]
    if not candidates:
        raise WebhookUnauthorized("svix-signature has no v1 signature")
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookUnauthorized("svix-signature does not match the id, timestamp and body")
    check_timestamp(timestamp, now, tolerance, "svix-timestamp")
    return msg_id


def parse(
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    secret: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> WebhookResult:
    """Verify, then normalise the one event."""
    msg_id = verify_signature(body, headers, now, secret=secret, tolerance=tolerance)
    return normalise(parse_json(body), msg_id)


def normalise(payload: Any, msg_id: str) -> WebhookResult:
    """``{"type", "created_at", "data"}`` as a canonical event, keyed by the Svix id."""
    envelope = obj(payload, "body")
    name = envelope.get("type")
    if not isinstance(name, str):
        raise WebhookMalformed("missing 'type' field")
    kind = TYPES.get(name)
    if kind is None:
        return WebhookResult(ignored=(name,))
    data = obj(envelope.get("data"), f"{name} 'data'")
    detail = sub(data, DETAIL.get(kind, ""))  # the click (or open) itself, when present
    when = detail.get("timestamp") or envelope.get("created_at")
    recipients = data.get("to")
    recipient = None
    if isinstance(recipients, list) and len(recipients) == 1:
        recipient = normalise_email(recipients[0])
    elif isinstance(recipients, str):
        recipient = normalise_email(recipients)
    return WebhookResult(
        events=(
            InboundEvent(
                provider=PROVIDER,
                type=kind,
                provider_event_id=msg_id,
                occurred_at=from_iso(when, f"{name} timestamp"),
                recipient=recipient,
                our_message_id=message_id_from(_tags(data).get(METADATA_KEY)),
                provider_message_id=text(data.get("email_id")),
                bounce=_bounce(data) if kind is EventType.BOUNCED else None,
                reason=_reason(data, kind),
                url=text(detail.get("link")) if kind is EventType.CLICKED else None,
                user_agent=text(detail.get("userAgent")),
                ip=text(detail.get("ipAddress")),
                data=envelope,
            ),
        )
    )


def _tags(data: dict[str, Any]) -> dict[str, Any]:
    """Tags as a dict: Resend documents a list of ``{name, value}`` and has sent a plain
    object; accept both."""
    tags = data.get("tags")
    if isinstance(tags, dict):
        return tags
    if isinstance(tags, list):
        return {t["name"]: t.get("value") for t in tags if isinstance(t, dict) and "name" in t}
    return {}


def _bounce(data: dict[str, Any]) -> Bounce:
    return "hard" if sub(data, "bounce").get("type") == "Permanent" else "soft"


def _reason(data: dict[str, Any], kind: EventType) -> str | None:
    if kind is EventType.BOUNCED:
        bounce = sub(data, "bounce")
        return text(bounce.get("message")) or text(bounce.get("subType"))
    if kind is EventType.DROPPED:
        for key in ("failed", "suppressed"):
            reason = sub(data, key)
            found = text(reason.get("reason")) or text(reason.get("message"))
            if found:
                return found
    return None
