"""Mailgun provider: ``POST /v3/{domain}/messages.mime`` with HTTP basic auth (``api`` and
the API key), in the US (api.mailgun.net) or EU (api.eu.mailgun.net) region.

The MIME bytes go as they are (multipart form: ``to`` and the ``message`` file), so every
header we set, List-Unsubscribe and Message-ID included, reaches the recipient unchanged.
Our message id goes in the user variable ``v:nurture_message_id``, which Mailgun returns in
``user-variables`` of every event webhook (and adds as an X-Mailgun-Variables header, so it
must never hold anything private). Mailgun answers ``{"id": "<…>", "message": "Queued.
Thank you."}``; errors are ``{"message": "…"}``.

``supports_lookup`` is False: Mailgun has no idempotency key, and its Events API is
eventually consistent (an accepted message can take minutes to appear), so a search cannot
say "certainly not sent".
"""

from __future__ import annotations

from typing import Literal

import httpx

from nurture.mail.message import OutgoingEmail
from nurture.mail.providers._http import HttpProvider, accepted_id, json_body, make_client

REGION_BASE_URLS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}


class MailgunProvider(HttpProvider):
    name = "mailgun"

    def __init__(
        self,
        api_key: str,
        domain: str,
        *,
        region: Literal["us", "eu"] = "us",
        base_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not domain or "/" in domain:
            raise ValueError(f"Mailgun sending domain must be a bare domain: {domain!r}")
        self.domain = domain
        url = base_url or REGION_BASE_URLS[region]
        client = make_client(url, timeout, auth=("api", api_key), transport=transport)
        super().__init__(client)

    def send(self, email: OutgoingEmail) -> str:
        response = self.post(
            f"/v3/{self.domain}/messages.mime",
            data={"to": email.to, "v:nurture_message_id": str(email.message_id)},
            files={"message": (f"{email.idempotency_key}.eml", email.data, "message/rfc822")},
        )
        body = json_body(response)
        found = body.get("id") if isinstance(body, dict) else None
        return accepted_id(found, email.rfc_message_id).removeprefix("<").removesuffix(">")

    def error_text(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
        text = response.text.strip()  # 401 answers are plain text ("Forbidden")
        return text[:300] or None
