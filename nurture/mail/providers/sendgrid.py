"""SendGrid provider: the v3 Mail Send API (``POST /v3/mail/send``, bearer API key).

The JSON is built from our MIME message (SendGrid's v3 API takes no raw MIME). Our message
id goes in ``custom_args.nurture_message_id``, which SendGrid returns with every event
webhook; our headers (List-Unsubscribe, List-Unsubscribe-Post, Message-ID,
X-Nurture-Message-Id) go in ``headers``, less the ones SendGrid reserves (x-sg-id, x-sg-eid,
received, dkim-signature and those with their own field). SendGrid answers 202 with an
empty body and the message id in the ``X-Message-Id`` response header; errors are
``{"errors": [{"message", "field", "help"}]}``.

``supports_lookup`` is False: SendGrid has no idempotency key, and searching sent mail
(the Email Activity API) is a paid add-on that is not real time, so it cannot say
"certainly not sent".
"""

from __future__ import annotations

from typing import Any

import httpx

from nurture.mail.message import OutgoingEmail
from nurture.mail.providers._content import json_parts
from nurture.mail.providers._http import HttpProvider, accepted_id, json_body, make_client

DEFAULT_BASE_URL = "https://api.sendgrid.com"
_RESERVED = frozenset({"x-sg-id", "x-sg-eid", "received", "dkim-signature"})


class SendGridProvider(HttpProvider):
    name = "sendgrid"

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
        response = self.post("/v3/mail/send", json=self.payload(email))
        return accepted_id(response.headers.get("X-Message-Id"), email.rfc_message_id)

    @staticmethod
    def payload(email: OutgoingEmail) -> dict[str, Any]:
        parts = json_parts(email, forbidden=_RESERVED)
        content = [
            {"type": kind, "value": value}
            for kind, value in (("text/plain", parts.text), ("text/html", parts.html))
            if value is not None
        ]
        payload: dict[str, Any] = {
            "personalizations": [{"to": [{"email": email.to}]}],
            "from": {"email": parts.from_address, "name": parts.from_name},
            "subject": parts.subject,
            "content": content,
            "headers": parts.headers,
            "custom_args": {"nurture_message_id": str(email.message_id)},
        }
        if not parts.from_name:
            del payload["from"]["name"]
        if parts.reply_to:
            payload["reply_to"] = {"email": parts.reply_to}
        return payload

    def error_text(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list):
            return None
        texts = []
        for error in errors:
            if isinstance(error, dict) and error.get("message"):
                field = f" ({error['field']})" if error.get("field") else ""
                texts.append(f"{error['message']}{field}")
        return "; ".join(texts) or None
