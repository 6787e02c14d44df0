"""Identity stitching: which lead a website visitor is, and joining its anonymous events.

A browser gets a random first-party id (the ``nurture_vid`` cookie); its page views are
stored with that ``visitor_id`` and no lead. When an event carries both the visitor id and
the email of a lead (a form submit), the visitor is *identified*: the ``visitors`` row points
at the lead, later anonymous events of the visitor are stored with the lead at once, and the
earlier ones join it in one UPDATE. Events already tied to a lead are never moved: on a
shared computer, the latest identification wins for what comes next only.

A click from one of our emails identifies a visitor too (``identify_visitor``): the click
redirect hands our site a signed token naming the lead, and the snippet posts it with the
visitor id.

An event for an email that is not a lead (and does not create one) is stored under a visitor
key derived from that email (``email_key``), so it joins the lead the day one is identified
with that email.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.errors import NotFound
from nurture.services.enrollment import wake_waiting
from nurture.services.uow import Jobs
from nurture.store.models import Event, Lead, Visitor

EMAIL_KEY_PREFIX = "e:"


def email_key(email: str) -> str:
    """The visitor key of a (normalised) email: hashed, so the column holds no address."""
    return EMAIL_KEY_PREFIX + hashlib.sha256(email.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Sighting:
    """A visitor seen at ``at``; ``lead_id`` when the event identified it."""

    visitor_id: str
    at: datetime
    lead_id: int | None = None


def known_leads(session: Session, visitor_ids: Iterable[str]) -> dict[str, int]:
    """The lead of each identified visitor among ``visitor_ids``."""
    ids = sorted(set(visitor_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Visitor.visitor_id, Visitor.lead_id).where(
            Visitor.visitor_id.in_(ids), Visitor.lead_id.is_not(None)
        )
    )
    return {visitor_id: lead_id for visitor_id, lead_id in rows if lead_id is not None}


def record_sightings(session: Session, sightings: Iterable[Sighting], now: datetime) -> None:
    """Create or touch the visitors' rows in one multi-row upsert: first and last seen, and
    the lead for those identified (the latest identification in the batch wins)."""
    merged: dict[str, Sighting] = {}
    for seen in sightings:
        if seen.visitor_id.startswith(EMAIL_KEY_PREFIX):
            continue  # an email's key is no browser: nothing to remember about it
        earlier = merged.get(seen.visitor_id)
        if earlier is None:
            merged[seen.visitor_id] = seen
            continue
        lead_id = earlier.lead_id
        if seen.lead_id is not None and (lead_id is None or seen.at >= earlier.at):
            lead_id = seen.lead_id
        merged[seen.visitor_id] = Sighting(seen.visitor_id, max(seen.at, earlier.at), lead_id)
    if not merged:
        return
    rows = [
        {
            "visitor_id": s.visitor_id,
            "lead_id": s.lead_id,
            "first_seen_at": s.at,
            "last_seen_at": s.at,
            "identified_at": now if s.lead_id is not None else None,
        }
        # Sorted: two overlapping batches lock the same rows in the same order.
        for s in sorted(merged.values(), key=lambda s: s.visitor_id)
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Visitor).values(rows)
    new = statement.excluded
    table = Visitor.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=["visitor_id"],
        set_={
            "lead_id": case((new.lead_id.is_(None), table.lead_id), else_=new.lead_id),
            "identified_at": case(
                (new.lead_id.is_(None), table.identified_at), else_=new.identified_at
            ),
            "first_seen_at": case(
                (new.first_seen_at < table.first_seen_at, new.first_seen_at),
                else_=table.first_seen_at,
            ),
            "last_seen_at": case(
                (new.last_seen_at > table.last_seen_at, new.last_seen_at),
                else_=table.last_seen_at,
            ),
        },
    )
    session.execute(statement)


def stitch(session: Session, identified: Mapping[str, int]) -> set[int]:
    """Give the anonymous events of each identified visitor key its lead, in one UPDATE;
    the leads that gained events."""
    if not identified:
        return set()
    keys = sorted(identified)
    statement = (
        update(Event)
        .where(Event.visitor_id.in_(keys), Event.lead_id.is_(None))
        .values(lead_id=case(dict(identified), value=Event.visitor_id))
        .returning(Event.lead_id)
        .execution_options(synchronize_session=False)
    )
    return {lead_id for lead_id in session.scalars(statement) if lead_id is not None}


def identify_visitor(
    session: Session, jobs: Jobs, visitor_id: str, lead_id: int, now: datetime
) -> bool:
    """Tie ``visitor_id`` to ``lead_id`` as a form submit would: later page views go to the
    lead, earlier anonymous ones join it (then its ``wait_for`` steps wake and its score is
    redone after commit). Whether any event joined. ``NotFound`` if the lead is gone (erased
    after the email went out): nothing is stored then."""
    if session.get(Lead, lead_id) is None:
        raise NotFound(f"lead {lead_id} no longer exists")
    record_sightings(session, [Sighting(visitor_id, now, lead_id)], now)
    if not stitch(session, {visitor_id: lead_id}):
        return False
    wake_waiting(session, [lead_id], now)
    jobs.enqueue("process_engagement", [lead_id])
    return True
