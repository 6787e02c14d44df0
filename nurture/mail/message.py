"""The outgoing message: a rendered email turned into MIME with the headers every
marketing email must carry, and the ``OutgoingEmail`` a provider sends.

    https_url, mailto = unsubscribe_links(settings.base_url, lead_id, row_id, key, sender)
    mime = build_message(rendered, sender, lead.email, row_id, https_url, mailto, now)
    provider.send(OutgoingEmail(row_id, f"nurture-{row_id}", lead.email, mime))

``Message-ID`` is derived from our message row, so a resend of the same row carries the same
id and is recognisable downstream. ``List-Unsubscribe`` (https + mailto) and
``List-Unsubscribe-Post`` make one-click unsubscribe work (RFC 2369, RFC 8058).
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy
from email.utils import parseaddr
from functools import cached_property
from typing import cast

from nurture.core.funnel import Sender
from nurture.mail import wire
from nurture.mail.render import RenderedEmail
from nurture.mail.tokens import sign_unsubscribe

CORRELATION_HEADER = "X-Nurture-Message-Id"
_URL_LIST_HEADERS = frozenset({"list-unsubscribe"})
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")


class MailPolicy(EmailPolicy):
    """The stdlib SMTP policy, except that URL-list headers are folded between their URLs
    and never RFC 2047-encoded: the stdlib turns a URL longer than a line into encoded-words,
    which mailbox providers do not decode in ``List-Unsubscribe``."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _URL_LIST_HEADERS:
            return _fold_urls(name, value, self.linesep)
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _URL_LIST_HEADERS:
            return _fold_urls(name, value, self.linesep).encode("ascii")
        return super().fold_binary(name, value)


class _CachedHeaderRegistry(HeaderRegistry):
    """The stdlib registry builds a new header class on every lookup (most of the cost of
    parsing a message back: previews, providers reading ``.mime``); the classes depend only
    on the name, so build each once."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


MAIL_POLICY = MailPolicy(linesep="\r\n", header_factory=_CachedHeaderRegistry())


@dataclass(frozen=True)
class OutgoingEmail:
    """One message for a provider. ``message_id`` is our row id; ``idempotency_key`` names
    the send to the provider (a file name for the outbox, a header for an HTTP API), so it
    is restricted to ``[A-Za-z0-9._-]``, at most 128 characters, not starting with a dot."""

    message_id: int
    idempotency_key: str
    to: str
    content: EmailMessage | bytes  # bytes as stored: sent as they are, parsed only if asked

    def __post_init__(self) -> None:
        if not _IDEMPOTENCY_KEY.fullmatch(self.idempotency_key):
            raise ValueError(f"unusable idempotency key: {self.idempotency_key!r}")

    @cached_property
    def data(self) -> bytes:
        """The message as it goes on the wire."""
        return self.content if isinstance(self.content, bytes) else self.content.as_bytes()

    @cached_property
    def mime(self) -> EmailMessage:
        if isinstance(self.content, EmailMessage):
            return self.content
        return cast(EmailMessage, email.message_from_bytes(self.content, policy=MAIL_POLICY))

    @cached_property
    def headers(self) -> EmailMessage:
        """The headers alone (cheap to parse from bytes)."""
        if isinstance(self.content, EmailMessage):
            return self.content
        parser = BytesHeaderParser(_class=EmailMessage, policy=MAIL_POLICY)
        return cast(EmailMessage, parser.parsebytes(self.content))

    @property
    def rfc_message_id(self) -> str:
        return header_message_id(self.headers)

    @property
    def envelope_from(self) -> str:
        return parseaddr(str(self.headers["From"]))[1]


def encode_message(
    rendered: RenderedEmail,
    sender: Sender,
    to: str,
    message_id: int,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    now: datetime,
) -> bytes:
    """The message as it goes on the wire: multipart/alternative (text, then HTML; UTF-8,
    quoted-printable) with our headers. ``now`` must be timezone-aware: it becomes the Date
    header."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("build_message needs a timezone-aware `now`")
    for url in (unsubscribe_url, unsubscribe_mailto):
        if not url.isascii() or re.search(r"[\s<>,]", url):
            raise ValueError(f"unsubscribe link must be ASCII without spaces or <>,: {url!r}")
    headers = [
        wire.header("From", wire.address(sender.from_address, sender.from_name)),
        wire.header("To", wire.address(to)),
    ]
    if sender.reply_to:
        headers.append(wire.header("Reply-To", wire.address(sender.reply_to)))
    headers += [
        wire.unstructured("Subject", rendered.subject),
        wire.header("Date", wire.date(now)),
        wire.header("Message-ID", message_id_for(message_id, sender)),
        wire.header(CORRELATION_HEADER, str(message_id)),
        wire.urls("List-Unsubscribe", (unsubscribe_url, unsubscribe_mailto)),
        wire.header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    boundary = f"=_nurture.{message_id}"
    return wire.alternative(headers, rendered.text, rendered.html, boundary)


def build_message(
    rendered: RenderedEmail,
    sender: Sender,
    to: str,
    message_id: int,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    now: datetime,
) -> EmailMessage:
    """``encode_message`` parsed back, for previews and tests that look inside."""
    data = encode_message(
        rendered, sender, to, message_id, unsubscribe_url, unsubscribe_mailto, now
    )
    return cast(EmailMessage, email.message_from_bytes(data, policy=MAIL_POLICY))


def unsubscribe_links(
    base_url: str, lead_id: int, message_id: int, key: bytes, sender: Sender
) -> tuple[str, str]:
    """The one-click https URL (``{base_url}/u/{token}``) and the mailto fallback."""
    token = sign_unsubscribe(lead_id, message_id, key)
    mailto = f"mailto:unsubscribe@{sender_domain(sender)}?subject=unsubscribe%20{token}"
    return f"{base_url.rstrip('/')}/u/{token}", mailto


def message_id_for(message_id: int, sender: Sender) -> str:
    """``<nurture.{row id}@{sender domain}>``: the same row always gets the same id."""
    return f"<nurture.{message_id}@{sender_domain(sender)}>"


def sender_domain(sender: Sender) -> str:
    return sender.from_address.rpartition("@")[2].lower()


def header_message_id(mime: EmailMessage) -> str:
    """The Message-ID without its angle brackets: the provider id when a provider has none."""
    value = mime["Message-ID"]
    if value is None:
        raise ValueError("message has no Message-ID header")
    return str(value).strip().removeprefix("<").removesuffix(">")


def _fold_urls(name: str, value: str, linesep: str) -> str:
    """``Name: <a>,`` then each further ``<url>`` on its own continuation line."""
    urls = re.findall(r"<[^<>]*>", str(value))
    if not urls:
        raise ValueError(f"{name} holds no <url>: {value!r}")
    return f"{name}: " + f",{linesep} ".join(urls) + linesep
