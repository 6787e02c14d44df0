"""Resend provider: ``POST /emails`` with a bearer API key and our ``Idempotency-Key``.

The JSON is built from our MIME message (Resend's API takes no raw MIME). Our message id
goes in ``tags`` as ``nurture_message_id`` (tag values allow only ASCII letters, digits,
``_`` and ``-``: our id is digits), which Resend returns in every webhook; our headers go in
``headers``. The idempotency key makes a retry within Resend's 24-hour window return the
first answer instead of sending twice. Resend answers ``{"id": "…"}``; errors are
``{"statusCode", "name", "message"}``. A 409 ``concurrent_idempotent_requests`` (the first
request with this key is still running) is retried; any other 409 is a refusal.

``supports_lookup`` is False: the idempotency key protects a resend of the same request, but
Resend has no way to ask "was a message with this key accepted?" from the key alone.
"""

from __future__ import annotations

from typing import Any

import httpx

from nurture.mail.message import OutgoingEmail
from nurture.mail.providers._content import json_parts
from nurture.mail.providers._http import HttpProvider, accepted_id, json_body, make_client

DEFAULT_BASE_URL = "https://api.resend.com"


class ResendProvider(HttpProvider):
    name = "resend"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        super().__init__(make_client(base_url, timeout, headers=headers, transport=transport))

    def send(self, email: OutgoingEmail) -> str:
        response = self.post(
            "/emails", json=self.payload(email), headers={"Idempotency-Key": email.idempotency_key}
        )
        body = json_body(response)
        found = body.get("id") if isinstance(body, dict) else None
        return accepted_id(found, email.rfc_message_id)

    @staticmethod
    def payload(email: OutgoingEmail) -> dict[str, Any]:
        parts = json_parts(email)
        payload: dict[str, Any] = {
            "from": parts.from_header,
            "to": [email.to],
            "subject": parts.subject,
            "headers": parts.headers,
            "tags": [{"name": "nurture_message_id", "value": str(email.message_id)}],
        }
        if parts.text is not None:
            payload["text"] = parts.text
        if parts.html is not None:
            payload["html"] = parts.html
        if parts.reply_to:
            payload["reply_to"] = parts.reply_to
        return payload

    def error_text(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("message"):
            return None
        name = f"{body['name']}: " if body.get("name") else ""
        return f"{name}{body['message']}"

    def retryable(self, response: httpx.Response) -> bool:
        body = json_body(response)
        return isinstance(body, dict) and body.get("name") == "concurrent_idempotent_requests"
