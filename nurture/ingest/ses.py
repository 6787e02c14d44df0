"""Amazon SES events over SNS: verify the SNS envelope (``sns.py``), then normalise the SES
event in its ``Message``.

SES event publishing names the kind ``eventType``; identity feedback notifications name it
``notificationType``; both carry the same objects. One SES event may name several recipients
(a bounce of two addresses): it becomes one canonical event per recipient, with ids
``<SNS MessageId>:<recipient>`` so that a redelivered SNS message dedups.

Our id comes back in ``mail.tags.nurture_message_id`` (a list; configuration-set publishing
only) or, failing that, in the ``X-Nurture-Message-Id`` header under ``mail.headers``. SES has
no machine/bot flag.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from nurture.errors import WebhookMalformed
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
from nurture.ingest.sns import SnsCertificates, confirm_subscription, envelope, verify_message
from nurture.ingest.verify import parse_json

__all__ = ["PROVIDER", "confirm_subscription", "normalise", "parse"]

PROVIDER = "ses"
HEADER_NAME = "x-nurture-message-id"

TYPES: dict[str, EventType] = {
    "Delivery": EventType.DELIVERED,
    "DeliveryDelay": EventType.DEFERRED,
    "Bounce": EventType.BOUNCED,
    "Reject": EventType.DROPPED,
    "Rendering Failure": EventType.DROPPED,
    "Open": EventType.OPENED,
    "Click": EventType.CLICKED,
    "Complaint": EventType.COMPLAINED,
    "Subscription": EventType.UNSUBSCRIBED,
}
#: The object holding each kind's details, and the list of recipients inside it.
DETAIL = {
    "Delivery": ("delivery", "recipients"),
    "DeliveryDelay": ("deliveryDelay", "delayedRecipients"),
    "Bounce": ("bounce", "bouncedRecipients"),
    "Complaint": ("complaint", "complainedRecipients"),
    "Reject": ("reject", None),
    "Rendering Failure": ("failure", None),
    "Open": ("open", None),
    "Click": ("click", None),
    "Subscription": ("subscription", None),
}


def parse(
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    certs: SnsCertificates,
    topic_arns: Collection[str],
) -> WebhookResult:
    """Verify the SNS message, then: a SubscriptionConfirmation asks the caller to confirm
    (``subscribe_url``); a Notification's SES event is normalised."""
    del headers, now  # SNS signs the body; redeliveries keep their MessageId and dedup
    message = envelope(parse_json(body))
    verify_message(message, certs=certs, topic_arns=topic_arns)
    if message["Type"] == "SubscriptionConfirmation":
        return WebhookResult(ignored=(message["Type"],), subscribe_url=message["SubscribeURL"])
    if message["Type"] != "Notification":
        return WebhookResult(ignored=(message["Type"],))
    try:
        inner = json.loads(message["Message"])
    except json.JSONDecodeError as exc:
        raise WebhookMalformed(f"SNS Message is not JSON: {exc.msg} at char {exc.pos}") from exc
    return normalise(inner, message["MessageId"])


def normalise(event: Any, sns_message_id: str) -> WebhookResult:
    """One SES event as canonical events, one per recipient it names."""
    event = obj(event, "SES event")
    name = event.get("eventType") or event.get("notificationType")
    if not isinstance(name, str):
        raise WebhookMalformed("SES event has neither 'eventType' nor 'notificationType'")
    kind = TYPES.get(name)
    if kind is None:
        return WebhookResult(ignored=(name,))
    mail = obj(event.get("mail"), f"SES {name} 'mail'")
    detail_key, recipients_key = DETAIL[name]
    detail = sub(event, detail_key)
    if kind is EventType.UNSUBSCRIBED and not _unsubscribed(detail):
        return WebhookResult(ignored=(f"{name}:opt-in",))
    when = detail.get("timestamp") or mail.get("timestamp")
    occurred_at = from_iso(when, f"SES {name} timestamp")
    recipients = _recipients(detail, recipients_key, mail, kind)
    many = len(recipients) > 1
    events = tuple(
        InboundEvent(
            provider=PROVIDER,
            type=kind,
            provider_event_id=f"{sns_message_id}:{email}" if many else sns_message_id,
            occurred_at=occurred_at,
            recipient=email,
            our_message_id=_our_id(mail),
            provider_message_id=text(mail.get("messageId")),
            bounce=_bounce(detail) if kind is EventType.BOUNCED else None,
            reason=_reason(name, detail, entry),
            url=text(detail.get("link")) if kind is EventType.CLICKED else None,
            user_agent=text(detail.get("userAgent")) if name in ("Open", "Click") else None,
            ip=text(detail.get("ipAddress")),
            data=event,
        )
        for email, entry in recipients
    )
    return WebhookResult(events=events)


def _recipients(
    detail: dict[str, Any], key: str | None, mail: dict[str, Any], kind: EventType
) -> list[tuple[str | None, dict[str, Any]]]:
    """(address, per-recipient entry) pairs. Opens and clicks of a message sent to several
    addresses cannot be pinned to one: a single event with no recipient."""
    if key is not None:
        entries = detail.get(key)
        if not isinstance(entries, list) or not entries:
            raise WebhookMalformed(f"SES event has no '{key}'")
        found: list[tuple[str | None, dict[str, Any]]] = []
        for entry in entries:
            if isinstance(entry, str):
                found.append((normalise_email(entry), {}))
            elif isinstance(entry, dict):
                found.append((normalise_email(entry.get("emailAddress")), entry))
        return found
    destination = [normalise_email(a) for a in mail.get("destination") or ()]
    if kind is EventType.DROPPED and destination:
        return [(a, {}) for a in destination]
    return [(destination[0] if len(destination) == 1 else None, {})]


def _our_id(mail: dict[str, Any]) -> int | None:
    found = message_id_from(sub(mail, "tags").get(METADATA_KEY))
    if found is not None:
        return found
    for entry in mail.get("headers") or ():
        if isinstance(entry, dict) and str(entry.get("name", "")).lower() == HEADER_NAME:
            return message_id_from(entry.get("value"))
    return None


def _bounce(detail: dict[str, Any]) -> Bounce:
    """Permanent is hard; Transient and Undetermined are soft (counted, not suppressed)."""
    return "hard" if detail.get("bounceType") == "Permanent" else "soft"


def _unsubscribed(detail: dict[str, Any]) -> bool:
    prefs = sub(detail, "newTopicPreferences")
    if prefs.get("unsubscribeAll") is True:
        return True
    topics = prefs.get("topicSubscriptionStatus") or ()
    return any(isinstance(t, dict) and t.get("subscriptionStatus") == "OptOut" for t in topics)


def _reason(name: str, detail: dict[str, Any], entry: dict[str, Any]) -> str | None:
    if name == "Bounce":
        return text(entry.get("diagnosticCode")) or text(detail.get("bounceSubType"))
    if name == "DeliveryDelay":
        return text(entry.get("diagnosticCode")) or text(detail.get("delayType"))
    if name == "Complaint":
        return text(detail.get("complaintFeedbackType"))
    if name == "Reject":
        return text(detail.get("reason"))
    if name == "Rendering Failure":
        return text(detail.get("errorMessage"))
    return None
