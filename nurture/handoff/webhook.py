"""Signed webhook to a CRM: the handoff as JSON, signed like Stripe's webhooks.

    POST {NURTURE_CRM_WEBHOOK_URL}
    Content-Type: application/json
    X-Nurture-Signature: t=1795446000,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
    X-Nurture-Idempotency-Key: <the notification's idempotency key>

The receiver verifies the signature over the raw body (docs/notifications.md has the
snippet), refuses timestamps outside its tolerance, and treats a repeated idempotency key
as already done: a timeout after the CRM took the request is retried, so it may come twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from nurture.core.clock import SYSTEM_CLOCK, Clock
from nurture.handoff.base import NotificationContext
from nurture.handoff.errors import ChannelNotConfigured
from nurture.handoff.http import post

SIGNATURE_HEADER = "X-Nurture-Signature"
IDEMPOTENCY_HEADER = "X-Nurture-Idempotency-Key"
BODY_KEYS = (
    "kind",
    "handoff_id",
    "stage",
    "from_stage",
    "lead",
    "account",
    "reason",
    "owner",
    "assigned_because",
    "activities",
    "links",
)


def webhook_body(context: NotificationContext, idempotency_key: str) -> bytes:
    """The JSON document the CRM receives (UTF-8, keys sorted, no spaces)."""
    document: dict[str, Any] = {key: context.get(key) for key in BODY_KEYS}
    document["idempotency_key"] = idempotency_key
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Nurture-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
    ``f"{t}.{body}"``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookNotifier:
    channel = "webhook"

    def __init__(
        self,
        client: httpx.Client,
        url: str | None,
        secret: str | None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.client = client
        self.url = url
        self.secret = secret
        self.clock = clock

    def send(
        self, context: NotificationContext, recipient: str | None, idempotency_key: str
    ) -> None:
        if not self.url:
            raise ChannelNotConfigured("webhook: NURTURE_CRM_WEBHOOK_URL is not set")
        if not self.secret:
            raise ChannelNotConfigured("webhook: NURTURE_CRM_WEBHOOK_SECRET is not set")
        body = webhook_body(context, idempotency_key)
        headers = {
            SIGNATURE_HEADER: signature(self.secret, int(self.clock.now().timestamp()), body),
            IDEMPOTENCY_HEADER: idempotency_key,
        }
        post(self.client, self.channel, self.url, body, headers)
