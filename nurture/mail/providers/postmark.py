"""Postmark provider: ``POST /email`` with the ``X-Postmark-Server-Token`` header, on one
message stream (default ``broadcast``: marketing mail must not go through Postmark's
transactional ``outbound`` stream).

The JSON is built from our MIME message (Postmark's email API takes no raw MIME). Our
message id goes in ``Metadata.nurture_message_id``, which Postmark returns in every webhook;
our headers go in ``Headers`` as ``[{"Name", "Value"}]``. On a broadcast stream Postmark
manages unsubscribes and writes its own List-Unsubscribe headers unless the account is
approved to manage its own (docs/providers.md). Postmark answers
``{"ErrorCode": 0, "MessageID": "…", …}``; errors are ``{"ErrorCode": n, "Message": "…"}``,
a refusal of this message being HTTP 422 (e.g. 406, inactive recipient); the account-level
codes 405, 412 and 413 are retried instead.

``supports_lookup`` is False: Postmark has no idempotency key, and its message search is
not guaranteed to show a just-accepted message, so it cannot say "certainly not sent".
"""

from __future__ import annotations

from typing import Any

import httpx

from nurture.mail.message import OutgoingEmail
from nurture.mail.providers._content import json_parts
from nurture.mail.providers._http import HttpProvider, accepted_id, json_body, make_client

DEFAULT_BASE_URL = "https://api.postmarkapp.com"
# ErrorCodes about our account, not this message (not allowed to send, account pending,
# account may not send): retry once an operator has sorted the account out.
_ACCOUNT_ERRORS = frozenset({405, 412, 413})


class PostmarkProvider(HttpProvider):
    name = "postmark"

    def __init__(
        self,
        server_token: str,
        *,
        message_stream: str = "broadcast",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.message_stream = message_stream
        headers = {"X-Postmark-Server-Token": server_token, "Accept": "application/json"}
        super().__init__(make_client(base_url, timeout, headers=headers, transport=transport))

    def send(self, email: OutgoingEmail) -> str:
        response = self.post("/email", json=self.payload(email))
        body = json_body(response)
        found = body.get("MessageID") if isinstance(body, dict) else None
        return accepted_id(found, email.rfc_message_id)

    def payload(self, email: OutgoingEmail) -> dict[str, Any]:
        parts = json_parts(email)
        payload: dict[str, Any] = {
            "From": parts.from_header,
            "To": email.to,
            "Subject": parts.subject,
            "Headers": [{"Name": name, "Value": value} for name, value in parts.headers.items()],
            "Metadata": {"nurture_message_id": str(email.message_id)},
            "MessageStream": self.message_stream,
        }
        if parts.text is not None:
            payload["TextBody"] = parts.text
        if parts.html is not None:
            payload["HtmlBody"] = parts.html
        if parts.reply_to:
            payload["ReplyTo"] = parts.reply_to
        return payload

    def error_text(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("Message"):
            return None
        return f"{body['Message']} (Postmark error {body.get('ErrorCode')})"

    def retryable(self, response: httpx.Response) -> bool:
        body = json_body(response)
        return isinstance(body, dict) and body.get("ErrorCode") in _ACCOUNT_ERRORS
