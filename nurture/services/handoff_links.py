"""Signed one-click links in a handoff notification: accept, reject, won, lost.

A link carries ``handoff:<id>:<outcome>`` signed for the ``handoff`` purpose (see
``nurture.mail.tokens``): it proves we wrote it, so whoever holds the notification can
answer without an API key. Opening it shows a confirm page (GET never changes anything:
chat apps and mail scanners prefetch links); the form on that page records the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nurture.core.handoff_model import Outcome
from nurture.errors import BadToken
from nurture.handoff import Notifier
from nurture.mail.tokens import sign, verify

HANDOFF = "handoff"
_PAYLOAD = re.compile(r"handoff:(\d+):(accepted|rejected|won|lost)")
LINKED = (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.WON, Outcome.LOST)


def handoff_links(base_url: str, key: bytes, handoff_id: int, lead_id: int) -> dict[str, str]:
    """``{"accept": url, "reject": url, "won": url, "lost": url, "lead": url}``."""
    base = base_url.rstrip("/")
    names = {Outcome.ACCEPTED: "accept", Outcome.REJECTED: "reject"}
    links = {
        names.get(outcome, outcome.value): f"{base}/h/{link_token(key, handoff_id, outcome)}"
        for outcome in LINKED
    }
    links["lead"] = f"{base}/v1/leads/{lead_id}/score"
    return links


def link_token(key: bytes, handoff_id: int, outcome: Outcome) -> str:
    return sign(HANDOFF, f"handoff:{handoff_id}:{outcome.value}", key)


def read_link(token: str, key: bytes) -> tuple[int, Outcome]:
    """The handoff and answer a link stands for; BadToken for anything we did not sign."""
    found = _PAYLOAD.fullmatch(verify(HANDOFF, token, key))
    if found is None:
        raise BadToken("not a handoff link")
    return int(found.group(1)), Outcome(found.group(2))


class WithLinks:
    """A notifier that adds the signed answer links to a handoff's context before sending:
    the outbox stores no tokens, and a key rotation re-signs links on the next attempt."""

    def __init__(self, inner: Notifier, base_url: str, key: bytes) -> None:
        self.inner = inner
        self.channel = inner.channel
        self._base_url = base_url
        self._key = key

    def send(self, context: Mapping[str, Any], recipient: str | None, idempotency_key: str) -> None:
        handoff_id = context.get("handoff_id")
        lead = context.get("lead")
        lead_id = lead.get("id") if isinstance(lead, Mapping) else None
        if isinstance(handoff_id, int) and isinstance(lead_id, int) and "links" not in context:
            links = handoff_links(self._base_url, self._key, handoff_id, lead_id)
            context = {**context, "links": links}
        self.inner.send(context, recipient, idempotency_key)


def with_links(notifiers: Mapping[str, Notifier], base_url: str, key: bytes) -> dict[str, Notifier]:
    return {channel: WithLinks(notifier, base_url, key) for channel, notifier in notifiers.items()}
