"""Which message and lead a provider event belongs to, for a whole batch in three queries.

In order (``nurture.ingest.events``): our message id from the provider metadata, if that
message exists and (when the event names a recipient) was sent to that address; else the
provider's message id, sent through that same provider, with the same recipient check; else
the lead whose normalised email is the recipient. Metadata can be tampered with by whoever
gets the email, so an id pointing at someone else's message does not match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, String, any_, bindparam, cast, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from nurture.ingest.events import InboundEvent, normalise_email
from nurture.store.models import Lead, Message


@dataclass(frozen=True)
class Match:
    """An event's lead, and its message when it was matched to one (with the send time,
    which the link-scanner rule measures clicks from)."""

    lead_id: int
    message_id: int | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class _Sent:
    id: int
    lead_id: int
    to_address: str | None
    provider: str | None
    provider_message_id: str | None
    sent_at: datetime | None

    def fits(self, event: InboundEvent) -> bool:
        """Sent to the event's recipient (if it names one)?"""
        return event.recipient is None or self.to_address == event.recipient

    def match(self) -> Match:
        return Match(self.lead_id, self.id, self.sent_at)


_COLUMNS = (
    Message.id,
    Message.lead_id,
    Message.to_address,
    Message.provider,
    Message.provider_message_id,
    Message.sent_at,
)


def match_events(session: Session, events: Sequence[InboundEvent]) -> list[Match | None]:
    """A Match (or None: unmatched) per event, in order."""
    results: list[Match | None] = [None] * len(events)
    ours = _messages(session, Message.id, {e.our_message_id for e in events})
    by_id = {m.id: m for m in ours}
    for index, event in enumerate(events):
        found = by_id.get(event.our_message_id or 0)
        if found is not None and found.fits(event):
            results[index] = found.match()

    wanted = {e.provider_message_id for e, r in zip(events, results, strict=True) if r is None}
    by_provider_id: dict[tuple[str | None, str | None], list[_Sent]] = {}
    for sent in _messages(session, Message.provider_message_id, wanted):
        by_provider_id.setdefault((sent.provider, sent.provider_message_id), []).append(sent)
    for index, event in enumerate(events):
        if results[index] is None and event.provider_message_id:
            candidates = by_provider_id.get((event.provider, event.provider_message_id), [])
            fitting = next((m for m in candidates if m.fits(event)), None)
            if fitting is not None:
                results[index] = fitting.match()

    emails = {e.recipient for e, r in zip(events, results, strict=True) if r is None}
    emails.discard(None)
    if emails:
        query = select(Lead.email, Lead.id).where(Lead.email.in_(sorted(emails)))
        leads = {email: lead_id for email, lead_id in session.execute(query)}
        for index, event in enumerate(events):
            lead_id = leads.get(event.recipient) if event.recipient else None
            if results[index] is None and lead_id is not None:
                results[index] = Match(lead_id)
    return results


def one_of(
    session: Session, column: InstrumentedAttribute[Any], values: list[Any], element: Any
) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter whatever the
    count: SQLAlchemy renders a 1,000-value IN list anew for every statement, which cost more
    than running the query."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(cast(bindparam(None, values, ARRAY(element)), ARRAY(element)))


def _messages(
    session: Session, column: InstrumentedAttribute[Any], values: set[Any]
) -> list[_Sent]:
    """Messages whose ``column`` is one of ``values`` (None values ignored)."""
    keys = sorted((v for v in values if v is not None), key=str)
    if not keys:
        return []
    element = BigInteger() if column is Message.id else String()
    rows = session.execute(select(*_COLUMNS).where(one_of(session, column, keys, element)))
    return [
        _Sent(id, lead_id, normalise_email(to), provider, provider_id, sent_at)
        for id, lead_id, to, provider, provider_id, sent_at in rows
    ]
