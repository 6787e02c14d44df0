"""Webhook adapters: verify each provider's request and normalise its events into
``InboundEvent``. No database and no web framework here: ``web/`` calls ``Webhooks.parse``
and ``services/`` stores what it returns."""

from nurture.ingest.events import EventType, InboundEvent, WebhookResult, json_event_id
from nurture.ingest.sns import DEFAULT_CERT_URL_PATTERN, SnsCertificates
from nurture.ingest.verify import (
    DEFAULT_TOLERANCE_SECONDS,
    MAX_BODY_BYTES,
    MemoryTokenCache,
    TokenCache,
    check_size,
)
from nurture.ingest.webhooks import PROVIDERS, Webhooks, WebhookSecrets

__all__ = [
    "DEFAULT_CERT_URL_PATTERN",
    "DEFAULT_TOLERANCE_SECONDS",
    "MAX_BODY_BYTES",
    "PROVIDERS",
    "EventType",
    "InboundEvent",
    "MemoryTokenCache",
    "SnsCertificates",
    "TokenCache",
    "WebhookResult",
    "WebhookSecrets",
    "Webhooks",
    "check_size",
    "json_event_id",
]
