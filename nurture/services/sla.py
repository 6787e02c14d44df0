"""Service levels on handoffs: no answer within the stage's ``remind_after`` working hours
reminds the owner; none within ``reassign_after`` gives the lead to the next rep of the team
(never the same one) and tells the team channel. Run by the scheduler; each handoff is
handled in the caller's transaction, once (``reminded_at``, new SLA times on reassignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from nurture.core.funnel import Funnel
from nurture.core.handoff_model import Channel
from nurture.services.assignment import assign_lead
from nurture.services.handoffs import handoff_context, notify, set_sla
from nurture.services.uow import Jobs
from nurture.store.models import Handoff, Lead

#: Channels that reach a team rather than one person.
TEAM_CHANNELS = (Channel.SLACK, Channel.TEAMS)


@dataclass
class SlaCounts:
    reminded: int = 0
    reassigned: int = 0
    unassignable: int = 0


def sla_tick(
    session: Session, jobs: Jobs, funnel: Funnel, now: datetime, limit: int = 200
) -> SlaCounts:
    """Send due reminders and make due reassignments. Never commits."""
    counts = SlaCounts()
    model = funnel.handoff
    for handoff in _due(session, Handoff.reassign_at, now, limit):
        lead = session.get(Lead, handoff.lead_id, with_for_update={"key_share": True})
        if lead is None:
            continue
        previous = handoff.owner
        exclude = frozenset({previous}) if previous else frozenset()
        assignment = assign_lead(session, funnel, lead, handoff.stage, now, exclude=exclude)
        if assignment.rep is None:
            handoff.reassign_at = None  # nobody else can take it; the owner keeps it
            handoff.assignment = handoff.assignment | {"reassign": dict(assignment.why)}
            counts.unassignable += 1
            continue
        rep = model.rep(assignment.rep)
        handoff.owner, handoff.team = assignment.rep, assignment.team
        handoff.reassignments += 1
        handoff.reminded_at = None
        handoff.assignment = dict(assignment.why) | {"reassigned_from": previous}
        handoff.updated_at = now
        set_sla(handoff, model, rep, now)
        context = handoff_context(session, lead, handoff, None, assignment, model)
        context["previous_owner"] = previous
        channels = [c for c in model.channels if c in TEAM_CHANNELS]
        notify(session, jobs, model, handoff, "reassigned", context, rep, now, channels=channels)
        notify(session, jobs, model, handoff, "handoff", context, rep, now)
        counts.reassigned += 1
    for handoff in _due(session, Handoff.remind_at, now, limit):
        lead = session.get(Lead, handoff.lead_id)
        if lead is None:
            continue
        rep = model.rep(handoff.owner) if handoff.owner else None
        handoff.reminded_at = now
        handoff.remind_at = None  # once per owner; a reassignment sets a new one
        handoff.updated_at = now
        context = handoff_context(session, lead, handoff, None, None, model)
        notify(session, jobs, model, handoff, "reminder", context, rep, now)
        counts.reminded += 1
    return counts


def _due(
    session: Session, column: InstrumentedAttribute[datetime | None], now: datetime, limit: int
) -> list[Handoff]:
    query = (
        select(Handoff)
        .where(Handoff.status == "open", column <= now)
        .order_by(Handoff.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))
