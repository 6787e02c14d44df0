"""The parts of our MIME message that JSON mail APIs (SendGrid, Postmark, Resend) want as
fields: sender, reply-to, subject, text, HTML, and every other header we set.

Mailgun and SES take the MIME bytes as they are, so nothing is rebuilt for them. For the
JSON APIs the headers that have their own field, or that describe the MIME structure the
provider builds itself, are left out of ``headers``; the rest (Message-ID,
X-Nurture-Message-Id, List-Unsubscribe, List-Unsubscribe-Post, any later custom header) are
passed through, each provider dropping what it forbids.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address

from nurture.mail.message import OutgoingEmail

# Headers that are fields of the JSON request, or that the provider writes itself.
_OWN_FIELDS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


@dataclass(frozen=True)
class JsonParts:
    from_address: str
    from_name: str
    reply_to: str | None
    subject: str
    text: str | None
    html: str | None
    headers: dict[str, str]

    @property
    def from_header(self) -> str:
        """``Name <address>``, quoted as RFC 5322 needs."""
        return str(Address(display_name=self.from_name, addr_spec=self.from_address))


def json_parts(email: OutgoingEmail, forbidden: frozenset[str] = frozenset()) -> JsonParts:
    """Fields for a JSON mail API; ``forbidden`` (lower-case names) are left out of headers."""
    mime = email.mime
    sender = mime["From"].addresses[0]
    reply_to = mime["Reply-To"]
    text = mime.get_body(("plain",))
    html = mime.get_body(("html",))
    skip = _OWN_FIELDS | forbidden
    return JsonParts(
        from_address=sender.addr_spec,
        from_name=sender.display_name,
        reply_to=reply_to.addresses[0].addr_spec if reply_to else None,
        subject=str(mime["Subject"] or ""),
        text=str(text.get_content()) if text is not None else None,
        html=str(html.get_content()) if html is not None else None,
        headers={name: str(value) for name, value in mime.items() if name.lower() not in skip},
    )
