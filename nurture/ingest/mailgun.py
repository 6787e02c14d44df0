"""Mailgun webhooks (JSON): HMAC check, replay window, token reuse, normalisation.

The body is ``{"signature": {"timestamp", "token", "signature"}, "event-data": {...}}``;
``signature`` is hex HMAC-SHA256 of ``timestamp + token`` under the webhook signing key. A
token is accepted once: the TokenCache refuses a replayed request inside the window.

``failed`` events carry ``severity``: ``temporary`` means Mailgun will retry (deferred);
``permanent`` is a bounce, except the ``suppress-*`` reasons where Mailgun did not even try
(dropped) and ``old``, where it gave up retrying (a soft bounce).
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
    TokenCache,
    check_timestamp,
    parse_json,
)

PROVIDER = "mailgun"

TYPES: dict[str, EventType] = {
    "delivered": EventType.DELIVERED,
    "failed": EventType.BOUNCED,
    "rejected": EventType.DROPPED,
    "opened": EventType.OPENED,
    "clicked": EventType.CLICKED,
    "complained": EventType.COMPLAINED,
    "unsubscribed": EventType.UNSUBSCRIBED,
}
#: Permanent failures where Mailgun did not attempt delivery (the address is suppressed).
SUPPRESSED_REASONS = frozenset({"suppress-bounce", "suppress-unsubscribe", "suppress-complaint"})
#: ``client-info.bot`` values that are a person's own fetch, not a machine: Gmail's image
#: proxy loads the pixel when the person opens the email.
HUMAN_PROXIES = frozenset({"gmail", "google"})


def verify_signature(
    payload: Any,
    now: datetime,
    *,
    signing_key: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check the body's ``signature`` object; return its token (for the reuse check)."""
    signature = obj(payload, "body").get("signature")
    if not isinstance(signature, dict):
        raise WebhookUnauthorized("missing 'signature' object in the body")
    timestamp, token, digest = (signature.get(k) for k in ("timestamp", "token", "signature"))
    if isinstance(timestamp, int):
        timestamp = str(timestamp)
    if not (isinstance(timestamp, str) and isinstance(token, str) and isinstance(digest, str)):
        raise WebhookUnauthorized("signature object needs string timestamp, token and signature")
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, digest.strip().lower()):
        raise WebhookUnauthorized("signature does not match timestamp and token")
    check_timestamp(timestamp, now, tolerance, "signature timestamp")
    return token


def parse(
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    signing_key: str,
    tokens: TokenCache,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> WebhookResult:
    """Verify, normalise, then spend the token: a malformed body does not use it up, a
    second request with the same token is refused."""
    del headers  # Mailgun signs in the body
    payload = parse_json(body)
    token = verify_signature(payload, now, signing_key=signing_key, tolerance=tolerance)
    result = normalise(payload)
    if tokens.seen(token):
        raise WebhookUnauthorized("signature token was already used (replayed request)")
    return result


def normalise(payload: Any) -> WebhookResult:
    """The one event in ``event-data`` as a canonical event (or ignored)."""
    event = obj(obj(payload, "body").get("event-data"), "'event-data'")
    name = event.get("event")
    if not isinstance(name, str):
        raise WebhookMalformed("'event-data': missing 'event' field")
    kind = TYPES.get(name)
    if kind is None:
        return WebhookResult(ignored=(name,))
    if "timestamp" not in event:
        raise WebhookMalformed("'event-data': missing 'timestamp'")
    bounce: Bounce | None = None
    if name == "failed":
        kind, bounce = _failure(event)
    occurred_at = from_unix(event["timestamp"], "'event-data' timestamp")
    client = sub(event, "client-info")
    event_id = text(event.get("id"))
    message_id = text(sub(sub(event, "message"), "headers").get("message-id"))
    return WebhookResult(
        events=(
            InboundEvent(
                provider=PROVIDER,
                type=kind,
                # Mailgun ids are unique "within a day": pin them to the event's second.
                provider_event_id=(
                    f"{event_id}:{int(occurred_at.timestamp())}"
                    if event_id
                    else json_event_id(event)
                ),
                occurred_at=occurred_at,
                recipient=normalise_email(event.get("recipient")),
                our_message_id=message_id_from(sub(event, "user-variables").get(METADATA_KEY)),
                provider_message_id=message_id.strip("<>") if message_id else None,
                bounce=bounce,
                reason=_reason(event) if kind is not EventType.OPENED else None,
                url=text(event.get("url")) if kind is EventType.CLICKED else None,
                user_agent=text(client.get("user-agent")),
                ip=text(event.get("ip")),
                provider_machine=_machine(client),
                data=event,
            ),
        )
    )


def _failure(event: dict[str, Any]) -> tuple[EventType, Bounce | None]:
    if event.get("severity") == "temporary":
        return EventType.DEFERRED, None
    reason = event.get("reason")
    if reason in SUPPRESSED_REASONS:
        return EventType.DROPPED, None
    return EventType.BOUNCED, "soft" if reason == "old" else "hard"


def _reason(event: dict[str, Any]) -> str | None:
    status = sub(event, "delivery-status")
    reject = sub(event, "reject")
    return (
        text(status.get("description"))
        or text(status.get("message"))
        or text(reject.get("reason"))
        or text(event.get("reason"))
    )


def _machine(client: dict[str, Any]) -> str | None:
    bot = client.get("bot")
    if not bot or (isinstance(bot, str) and bot.lower() in HUMAN_PROXIES):
        return None
    return f"mailgun client-info.bot={bot}"


def token_of(body: bytes) -> str | None:
    """The signature token of a request ``parse`` accepted (None if there is none)."""
    try:
        signature = json.loads(body).get("signature")
    except (ValueError, AttributeError):
        return None
    token = signature.get("token") if isinstance(signature, dict) else None
    return token if isinstance(token, str) else None
