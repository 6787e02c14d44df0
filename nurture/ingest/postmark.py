"""Postmark webhooks: HTTP Basic auth and normalisation.

Postmark does not sign its webhooks; the webhook URL carries Basic credentials
(``https://user:password@host/webhooks/postmark``), compared here in constant time. There is
no timestamp to bound replays and no event id, so the event id is a hash of the event's JSON.
One event per request, told apart by ``RecordType``.
"""

from __future__ import annotations

import base64
import binascii
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
    json_event_id,
    message_id_from,
    normalise_email,
    obj,
    sub,
    text,
)
from nurture.ingest.verify import header, parse_json

PROVIDER = "postmark"

#: Bounce ``Type`` values that mean the address is dead (Postmark also deactivates it).
HARD_TYPES = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
#: Bounce ``Type`` values that are not delivery failures: replies, tests, challenges.
NOT_BOUNCES = frozenset(
    {"AutoResponder", "AddressChange", "Subscribe", "OpenRelayTest", "ChallengeVerification"}
)
#: Where each RecordType keeps its time and its recipient.
TIME_FIELD = {
    "Delivery": "DeliveredAt",
    "Bounce": "BouncedAt",
    "SpamComplaint": "BouncedAt",
    "Open": "ReceivedAt",
    "Click": "ReceivedAt",
    "SubscriptionChange": "ChangedAt",
}


def verify_auth(headers: Mapping[str, str], *, auth: str) -> None:
    """Raise WebhookUnauthorized unless ``Authorization: Basic`` carries ``auth``
    (``user:password``), compared in constant time."""
    value = header(headers, "Authorization")
    if not value:
        raise WebhookUnauthorized("missing Authorization header (Basic auth expected)")
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise WebhookUnauthorized(f"Authorization scheme is {scheme!r}, expected Basic")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookUnauthorized("Authorization Basic credentials are not base64") from exc
    if not hmac.compare_digest(given, auth.encode()):
        raise WebhookUnauthorized("Authorization Basic credentials are wrong")


def parse(body: bytes, headers: Mapping[str, str], now: datetime, *, auth: str) -> WebhookResult:
    """Check the credentials, then normalise the one event."""
    del now  # nothing signed to bound in time
    verify_auth(headers, auth=auth)
    return normalise(parse_json(body))


def normalise(payload: Any) -> WebhookResult:
    """The event as a canonical event, or ignored when it has no canonical type."""
    event = obj(payload, "body")
    record = event.get("RecordType")
    if not isinstance(record, str):
        raise WebhookMalformed("missing 'RecordType' field")
    if record not in TIME_FIELD:
        return WebhookResult(ignored=(record,))
    classified = _classify(record, event)
    if classified is None:
        return WebhookResult(ignored=(f"{record}:{event.get('Type') or 'resubscribe'}",))
    kind, bounce = classified
    time_field = TIME_FIELD[record]
    if time_field not in event:
        raise WebhookMalformed(f"{record}: missing '{time_field}'")
    geo = sub(event, "Geo")
    return WebhookResult(
        events=(
            InboundEvent(
                provider=PROVIDER,
                type=kind,
                provider_event_id=json_event_id(event),
                occurred_at=from_iso(event[time_field], f"{record} {time_field}"),
                recipient=normalise_email(event.get("Recipient") or event.get("Email")),
                our_message_id=message_id_from(sub(event, "Metadata").get(METADATA_KEY)),
                provider_message_id=text(event.get("MessageID")),
                bounce=bounce,
                reason=_reason(record, event),
                url=text(event.get("OriginalLink")) if kind is EventType.CLICKED else None,
                user_agent=text(event.get("UserAgent")),
                ip=text(geo.get("IP")),
                data=event,
            ),
        )
    )


def _classify(record: str, event: dict[str, Any]) -> tuple[EventType, Bounce | None] | None:
    if record == "Delivery":
        return EventType.DELIVERED, None
    if record == "Open":
        return EventType.OPENED, None
    if record == "Click":
        return EventType.CLICKED, None
    if record == "SpamComplaint":
        return EventType.COMPLAINED, None
    if record == "SubscriptionChange":
        return _subscription(event)
    kind = event.get("Type")
    if kind == "SpamComplaint":
        return EventType.COMPLAINED, None
    if kind == "Unsubscribe":  # the recipient replied asking to be removed
        return EventType.UNSUBSCRIBED, None
    if kind in NOT_BOUNCES:
        return None
    hard = kind in HARD_TYPES or event.get("Inactive") is True
    return EventType.BOUNCED, "hard" if hard else "soft"


def _subscription(event: dict[str, Any]) -> tuple[EventType, Bounce | None] | None:
    """Suppression turned on: an unsubscribe, or the suppression a bounce or complaint
    caused. Turned off (reactivated): nothing canonical."""
    if event.get("SuppressSending") is not True:
        return None
    reason = event.get("SuppressionReason")
    if reason == "HardBounce":
        return EventType.BOUNCED, "hard"
    if reason == "SpamComplaint":
        return EventType.COMPLAINED, None
    return EventType.UNSUBSCRIBED, None


def _reason(record: str, event: dict[str, Any]) -> str | None:
    if record in ("Bounce", "SpamComplaint"):
        return text(event.get("Details")) or text(event.get("Description"))
    if record == "SubscriptionChange":
        return text(event.get("SuppressionReason"))
    return None
