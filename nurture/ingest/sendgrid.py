"""SendGrid Event Webhook: ECDSA signature check and normalisation.

SendGrid signs ``timestamp + body`` with ECDSA P-256 / SHA-256; the base64 DER signature is in
``X-Twilio-Email-Event-Webhook-Signature``, the timestamp in ``...-Timestamp``, and the public
key is shown in the console as base64 DER (SubjectPublicKeyInfo, no PEM armour). The body is a
JSON array of events. Our ``custom_args`` come back as top-level fields of each event.

``sg_message_id`` is the ``X-Message-Id`` returned by mail send, followed by ``.filter...``
(the per-recipient part SendGrid adds), so ``provider_message_id`` keeps what comes before
``.filter``: the id we stored at send time. Older ids hold dots themselves
(``14c5d75ce93.dfd.64b469.filter0001...``), so cutting at the first dot would lose them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from nurture.errors import WebhookMalformed, WebhookUnauthorized
from nurture.ingest.events import (
    METADATA_KEY,
    Bounce,
    EventType,
    InboundEvent,
    WebhookResult,
    from_unix,
    json_event_id,
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

PROVIDER = "sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

TYPES: dict[str, EventType] = {
    "delivered": EventType.DELIVERED,
    "deferred": EventType.DEFERRED,
    "bounce": EventType.BOUNCED,
    "dropped": EventType.DROPPED,
    "open": EventType.OPENED,
    "click": EventType.CLICKED,
    "spamreport": EventType.COMPLAINED,
    "unsubscribe": EventType.UNSUBSCRIBED,
    "group_unsubscribe": EventType.UNSUBSCRIBED,
}


@lru_cache(maxsize=8)
def load_public_key(key: str) -> ec.EllipticCurvePublicKey:
    """The verification key from the console's base64 DER (PEM accepted too); cached, since
    the same key verifies every request. A bad key is a settings mistake: ValueError."""
    stripped = key.strip()
    if stripped.startswith("-----BEGIN"):
        loaded = load_pem_public_key(stripped.encode())
    else:
        loaded = load_der_public_key(base64.b64decode(stripped, validate=True))
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise ValueError("the SendGrid webhook key is not an elliptic-curve public key")
    return loaded


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    public_key: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise WebhookUnauthorized unless the request is signed by ``public_key`` within the
    replay window."""
    signature_b64 = require_header(headers, SIGNATURE_HEADER)
    timestamp = require_header(headers, TIMESTAMP_HEADER)
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookUnauthorized(f"{SIGNATURE_HEADER} is not base64") from exc
    try:
        load_public_key(public_key).verify(
            signature, timestamp.encode() + body, ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature as exc:
        raise WebhookUnauthorized(
            f"{SIGNATURE_HEADER} does not match the body and timestamp"
        ) from exc
    check_timestamp(timestamp, now, tolerance, TIMESTAMP_HEADER)


def parse(
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    public_key: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> WebhookResult:
    """Verify, then normalise the batch. Nothing is returned unless everything verified."""
    verify_signature(body, headers, now, public_key=public_key, tolerance=tolerance)
    return normalise(parse_json(body))


def normalise(payload: Any) -> WebhookResult:
    """The batch (a JSON array of events) as canonical events; unknown types are ignored."""
    if not isinstance(payload, list):
        raise WebhookMalformed(f"expected a JSON array of events, got {type(payload).__name__}")
    events: list[InboundEvent] = []
    ignored: list[str] = []
    for index, item in enumerate(payload):
        event = obj(item, f"event [{index}]")
        name = event.get("event")
        if not isinstance(name, str):
            raise WebhookMalformed(f"event [{index}]: missing 'event' field")
        kind = TYPES.get(name)
        if kind is None:
            ignored.append(name)
            continue
        events.append(_event(event, kind, index))
    return WebhookResult(events=tuple(events), ignored=tuple(ignored))


def _event(event: dict[str, Any], kind: EventType, index: int) -> InboundEvent:
    if "timestamp" not in event:
        raise WebhookMalformed(f"event [{index}]: missing 'timestamp'")
    sg_message_id = text(event.get("sg_message_id"))
    our_id = message_id_from(event.get(METADATA_KEY))
    if our_id is None:  # legacy v2 sends put custom args under unique_args
        our_id = message_id_from(sub(event, "unique_args").get(METADATA_KEY))
    return InboundEvent(
        provider=PROVIDER,
        type=kind,
        provider_event_id=text(event.get("sg_event_id")) or json_event_id(event),
        occurred_at=from_unix(event["timestamp"], f"event [{index}] timestamp"),
        recipient=normalise_email(event.get("email")),
        our_message_id=our_id,
        provider_message_id=_sent_id(sg_message_id),
        bounce=_bounce(event) if kind is EventType.BOUNCED else None,
        reason=_reason(event, kind),
        url=text(event.get("url")) if kind is EventType.CLICKED else None,
        user_agent=text(event.get("useragent")),
        ip=text(event.get("ip")) if kind in (EventType.OPENED, EventType.CLICKED) else None,
        provider_machine="sendgrid sg_machine_open" if event.get("sg_machine_open") else None,
        data=event,
    )


def _bounce(event: dict[str, Any]) -> Bounce:
    """``type: bounce`` is a permanent refusal, ``type: blocked`` a temporary one; events
    from before the field existed were all hard bounces."""
    return "soft" if event.get("type") == "blocked" else "hard"


def _reason(event: dict[str, Any], kind: EventType) -> str | None:
    if kind in (EventType.BOUNCED, EventType.DROPPED):
        return text(event.get("reason")) or text(event.get("response"))
    if kind is EventType.DEFERRED:
        return text(event.get("response")) or text(event.get("reason"))
    return None


def _sent_id(sg_message_id: str | None) -> str | None:
    """The X-Message-Id part of an event's ``sg_message_id``."""
    if not sg_message_id:
        return None
    return sg_message_id.split(".filter", 1)[0]
