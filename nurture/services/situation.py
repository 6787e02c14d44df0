"""Reading what the stepping core needs about a lead, and its recent sends, from the store."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.core.lead import LEAD_FIELDS, LeadProfile
from nurture.core.stepping import EventSeen, Situation
from nurture.store.models import Enrollment, Event, Lead, Message

COUNTED_STATUSES = ("queued", "sending", "sent", "unknown")  # what a frequency cap counts


@cache
def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def profile_of(lead: Lead) -> LeadProfile:
    """The stored lead as the pure core sees it."""
    fields = {name: getattr(lead, name) for name in LEAD_FIELDS}
    return LeadProfile(**fields, attributes=dict(lead.attributes or {}))


def situation_of(
    session: Session, funnel: Funnel, lead: Lead, enrollment: Enrollment, now: datetime
) -> Situation:
    """Real (non-machine) events since the enrollment began; a step id is attached to those
    about an email of this enrollment."""
    rows = session.execute(
        select(Event.type, Event.occurred_at, Message.step_id, Message.enrollment_id)
        .outerjoin(Message, Event.message_id == Message.id)
        .where(
            Event.lead_id == lead.id,
            Event.machine.is_(False),
            Event.occurred_at >= enrollment.started_at,
        )
    )
    events = tuple(
        EventSeen(kind, step if owner == enrollment.id else None, at)
        for kind, at, step, owner in rows
    )
    return Situation(
        now=now,
        zone=zone_of(lead.time_zone),
        attributes=profile_of(lead).facts(),
        stage=lead.stage,
        ladder=funnel.ladder,
        started_at=enrollment.started_at,
        entered_at=enrollment.step_entered_at,
        events=events,
    )


def recent_sends(
    session: Session, lead_id: int, now: datetime, period: timedelta
) -> list[datetime]:
    """When the lead was last emailed (all sequences), for the frequency cap."""
    return list(
        session.scalars(
            select(Message.created_at).where(
                Message.lead_id == lead_id,
                Message.created_at > now - period,
                Message.status.in_(COUNTED_STATUSES),
            )
        )
    )
