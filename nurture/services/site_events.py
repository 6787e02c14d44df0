"""Website and product events (``POST /v1/events``, ``POST /v1/collect``): validated as a
whole (``site_event_input``), stored with one multi-row insert, tied to leads, followed up
after commit.

Stored types speak the funnel's language, so a ``wait_for`` or ``goal`` in a sequence
matches them with no translation table: ``page_view`` is stored as ``visited``,
``form_submit`` as ``submitted``, every other name as ``custom:NAME`` (a sequence waits on
``custom:pricing_viewed``). The name as posted stays in ``data["event"]``.

Which lead: the event's email, else the lead its ``visitor_id`` was identified as. An email
that is no lead yet creates one (initial stage, enrolled) only for a hand-raising form
(``form_submit``, ``demo_requested``): anyone can be made a lead by filling in a form, not by
being named in a product event. Other events of an unknown email are stored anonymous under
the email's visitor key and join the lead once one is identified with that email
(``nurture.services.visitors``).

Follow-up goes two ways: leads whose new events include a hand-raiser (the funnel's
``scoring.hand_raisers``, matched as scoring matches them) are enqueued on their own, as
``process_hand_raisers`` on the ``handoffs`` queue, so a demo request never waits behind the
page views in ``engagement`` (docs/operations-latency.md); every other lead goes to
``process_engagement``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.core.bots import scanner_name
from nurture.core.funnel import Funnel
from nurture.services.enrollment import wake_waiting
from nurture.services.event_insert import insert_events
from nurture.services.lanes import enqueue_by_lane
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.site_event_input import (
    CREATES_LEAD,
    SiteEventIn,
    stored_type,
)
from nurture.services.uow import Jobs
from nurture.services.visitors import Sighting, email_key, known_leads, record_sightings, stitch
from nurture.store.models import Lead

JOB_CHUNK = 500
CRAWLER_MARKS = ("bot/", "bot;", " bot", "crawler", "spider", "slurp", "headless")


@dataclass(frozen=True)
class RequestMeta:
    """What the HTTP request says when an event does not: the browser's user agent and IP.
    ``classify``: the user agent is a browser's, so a crawler's is flagged machine (a site's
    own server posting to /v1/events is not a crawler)."""

    user_agent: str | None = None
    ip: str | None = None
    classify: bool = False


@dataclass(frozen=True)
class SiteCounts:
    stored: int = 0
    duplicates: int = 0
    anonymous: int = 0
    lead_ids: tuple[int, ...] = field(default=(), compare=False)


def record_site_events(
    session: Session,
    jobs: Jobs,
    funnel: Funnel,
    events: list[SiteEventIn],
    *,
    now: datetime,
    source: str,
    meta: RequestMeta,
    default_time_zone: str,
) -> SiteCounts:
    """Store ``events`` (already validated) once per ``(source, event_id)``; identify visitors
    and join their earlier anonymous events; wake the leads' ``wait_for`` steps and enqueue
    ``process_engagement`` (or, for leads that raised a hand, ``process_hand_raisers``) for
    after commit. Never commits."""
    leads = _leads_by_email(session, funnel, events, now, default_time_zone)
    identified: dict[str, int] = {}
    for event in sorted(events, key=lambda e: e.occurred_at or now):
        lead_id = leads.get(event.email or "")
        if lead_id is not None:
            identified[email_key(event.email or "")] = lead_id
            if event.visitor_id:
                identified[event.visitor_id] = lead_id
    # What this batch identified wins over what was remembered from earlier ones.
    by_visitor = known_leads(session, (e.visitor_id for e in events if e.visitor_id))
    by_visitor |= identified
    unique: dict[str, dict[str, Any]] = {}
    for event in events:
        row = _row(event, leads, by_visitor, now, source, meta)
        unique.setdefault(row["source_event_id"], row)
    new = insert_events(session, list(unique.values()))
    seen = [
        Sighting(r["visitor_id"], r["occurred_at"], identified.get(r["visitor_id"]))
        for r in new
        if r["visitor_id"]
    ]
    record_sightings(session, seen, now)
    stitched = stitch(session, identified)
    real = {row["lead_id"] for row in new if row["lead_id"] and not row["machine"]} | stitched
    wake_waiting(session, sorted(real), now)
    lead_ids = sorted(real | {row["lead_id"] for row in new if row["lead_id"]})
    enqueue_by_lane(jobs, funnel.scoring.hand_raisers, new, lead_ids, JOB_CHUNK)
    anonymous = sum(1 for row in new if row["lead_id"] is None)
    return SiteCounts(len(new), len(events) - len(new), anonymous, tuple(lead_ids))


def _leads_by_email(
    session: Session,
    funnel: Funnel,
    events: list[SiteEventIn],
    now: datetime,
    default_time_zone: str,
) -> dict[str, int]:
    """Lead ids of the events' emails, creating the leads a hand-raising form names."""
    emails = sorted({e.email for e in events if e.email})
    if not emails:
        return {}
    rows = session.execute(select(Lead.email, Lead.id).where(Lead.email.in_(emails)))
    found: dict[str, int] = {email: lead_id for email, lead_id in rows}
    missing = sorted({e.email for e in events if e.email and e.type in CREATES_LEAD} - set(found))
    if missing:
        result = upsert_leads(
            session,
            funnel,
            [LeadIn(email=email, source="website") for email in missing],
            now=now,
            default_time_zone=default_time_zone,
        )
        found.update({lead.email: lead.id for lead, _ in result.leads})
    return found


def _row(
    event: SiteEventIn,
    leads: dict[str, int],
    by_visitor: dict[str, int],
    now: datetime,
    source: str,
    meta: RequestMeta,
) -> dict[str, Any]:
    visitor = event.visitor_id
    lead_id = leads.get(event.email or "")
    if lead_id is None and visitor:
        lead_id = by_visitor.get(visitor)
    if lead_id is None and visitor is None and event.email:
        visitor = email_key(event.email)
    agent = event.user_agent or meta.user_agent
    machine_reason = _crawler(agent) if (event.user_agent or meta.classify) else None
    extra = {"title": event.title, "properties": event.properties}
    if lead_id is None:
        extra["email"] = event.email  # kept for the record until the email is a lead
    data: dict[str, Any] = {"event": event.type} | {k: v for k, v in extra.items() if v}
    occurred = (event.occurred_at or now).astimezone(UTC)
    return {
        "lead_id": lead_id,
        "message_id": None,
        "type": stored_type(event.type),
        "source": source,
        "source_event_id": event.event_id or uuid.uuid4().hex,
        "occurred_at": occurred,
        "received_at": now,
        "url": event.url,
        "user_agent": agent[:1000] if agent else None,
        "ip": (event.ip or meta.ip or "")[:64] or None,
        "machine": machine_reason is not None,
        "machine_reason": machine_reason,
        "bounce": None,
        "data": data,
        "visitor_id": visitor,
    }


def _crawler(user_agent: str | None) -> str | None:
    """Why a page view is a machine's (a crawler or scripted client), or None."""
    if not user_agent:
        return None
    agent = user_agent.lower()
    name = scanner_name(agent)
    if name:
        return f"scanner: {name}"
    mark = next((m for m in CRAWLER_MARKS if m in agent), None)
    return f"crawler user agent ({mark.strip()})" if mark else None
