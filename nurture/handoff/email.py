"""Email to the owner: plain text and a simple HTML part, handed to the engine's mail
provider (var/outbox/ under ``make run``, SMTP or an HTTP API otherwise).

The provider's idempotency key is derived from the notification's, so a retried send is
recognised by providers that can (outbox, memory, HTTP APIs with keys). Provider errors map
one to one: ``ProviderUnavailable`` -> ``NotificationUnavailable`` (with Retry-After),
``ProviderRejected`` -> ``NotificationRejected``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from html import escape

from nurture.core.clock import SYSTEM_CLOCK, Clock
from nurture.core.funnel import Sender
from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.handoff.base import NotificationContext
from nurture.handoff.errors import NotificationRejected, NotificationUnavailable
from nurture.handoff.summary import Summary, summarize
from nurture.mail import wire
from nurture.mail.message import OutgoingEmail, sender_domain
from nurture.mail.providers import Provider

_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")


def owner_email(
    context: NotificationContext, sender: Sender, to: str, key: str, now: datetime
) -> bytes:
    """The message on the wire: From the funnel's sender, To the owner, text then HTML."""
    summary = summarize(context)
    headers = [
        wire.header("From", wire.address(sender.from_address, sender.from_name)),
        wire.header("To", wire.address(to)),
        wire.unstructured("Subject", summary.title),
        wire.header("Date", wire.date(now)),
        wire.header("Message-ID", f"<{key}@{sender_domain(sender)}>"),
        wire.header("Auto-Submitted", "auto-generated"),
    ]
    return wire.alternative(headers, summary.text, _html(summary), f"=_nurture.{key}")


def provider_key(idempotency_key: str) -> str:
    """A key the providers accept (``[A-Za-z0-9._-]``, 128 at most): the notification's
    own when it fits, else a digest of it."""
    key = f"notification-{idempotency_key}"
    if _KEY.fullmatch(key):
        return key
    return "notification-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _html(summary: Summary) -> str:
    facts = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{escape(label)}</th>'
        f"<td>{escape(value)}</td></tr>"
        for label, value in summary.facts
    )
    parts = [
        '<!doctype html><html><body style="font-family:sans-serif">',
        f"<h2>{escape(summary.title)}</h2>",
        f"<p>{escape(summary.intro)}</p>",
        f"<table>{facts}</table>",
    ]
    for heading, lines in (("Why now", summary.reasons), ("Last activity", summary.activities)):
        if lines:
            items = "".join(f"<li>{escape(line)}</li>" for line in lines)
            parts.append(f"<h3>{heading}</h3><ul>{items}</ul>")
    if summary.links:
        links = " &middot; ".join(
            f'<a href="{escape(url, quote=True)}">{escape(label)}</a>'
            for label, url in summary.links
        )
        parts.append(f"<p>{links}</p>")
    parts.append("</body></html>")
    return "".join(parts)


class EmailNotifier:
    channel = "email"

    def __init__(
        self, provider: Provider, sender: Callable[[], Sender], clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.provider = provider
        self.sender = sender  # the live funnel's sender (it may be reloaded)
        self.clock = clock

    def send(
        self, context: NotificationContext, recipient: str | None, idempotency_key: str
    ) -> None:
        owner = context.get("owner")
        to = recipient or (owner.get("email") if isinstance(owner, dict) else None)
        if not to:
            raise NotificationRejected("email: the notification has no recipient (no owner)")
        key = provider_key(idempotency_key)
        handoff_id = context.get("handoff_id")
        data = owner_email(context, self.sender(), str(to), key, self.clock.now())
        email = OutgoingEmail(handoff_id if isinstance(handoff_id, int) else 0, key, str(to), data)
        try:
            self.provider.send(email)
        except ProviderRejected as exc:
            raise NotificationRejected(f"email: {exc}") from exc
        except ProviderUnavailable as exc:
            raise NotificationUnavailable(f"email: {exc}", retry_after=exc.retry_after) from exc
