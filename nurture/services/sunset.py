"""Sunset: leads with no real engagement for ``reengagement.inactive_for`` get the
re-engagement sequence instead of their stage's; a lead that lets it run out (its exit
``unengaged``) becomes ``unengaged`` and gets no more marketing email. A click brings it
back: the sequence's own goal and exits decide that, and the lead stays active.

Quiet leads are found through the index on ``leads.last_engaged_at`` (kept by
``process_engagement``), never by reading every lead's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from nurture.core.funnel import Funnel
from nurture.services.enrollment import LIVE_STATUSES, exit_live_enrollments, new_enrollment
from nurture.store.models import Enrollment, Lead

#: The exit step name that ends a sunset with no answer.
UNENGAGED_EXIT = "unengaged"


@dataclass
class SunsetCounts:
    started: int = 0
    unengaged: int = 0


def sunset_tick(session: Session, funnel: Funnel, now: datetime, limit: int = 500) -> SunsetCounts:
    """Start the re-engagement sequence for quiet leads; mark those it did not bring back.
    Never commits; the caller holds nothing, rows are locked here (SKIP LOCKED on
    PostgreSQL, so several schedulers share the work)."""
    counts = SunsetCounts()
    policy = funnel.reengagement
    if policy is None or policy.sequence not in funnel.sequences:
        return counts
    sequence = funnel.sequences[policy.sequence]
    stages = [s for s in sequence.stages if s in funnel.stages]
    cutoff = now - policy.inactive_for
    sunsetting = aliased(Enrollment)
    query = (
        select(Lead)
        .where(
            Lead.contact_status == "active",
            Lead.stage.in_(stages),
            Lead.last_engaged_at < cutoff,
            ~exists().where(
                sunsetting.lead_id == Lead.id,
                sunsetting.sequence_id == sequence.id,
                or_(
                    sunsetting.status.in_(LIVE_STATUSES),
                    sunsetting.started_at > Lead.last_engaged_at,
                ),
            ),
        )
        .order_by(Lead.last_engaged_at, Lead.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, key_share=True, of=Lead)
    for lead in session.scalars(query):
        quiet = (now - lead.last_engaged_at).days if lead.last_engaged_at else None
        exit_live_enrollments(session, lead.id, f"sunset: no engagement for {quiet} days", now)
        session.flush()
        session.add(new_enrollment(lead, sequence, funnel.version, now))
        counts.started += 1
    counts.unengaged = _mark_unengaged(session, sequence.id, now, limit)
    return counts


def _mark_unengaged(session: Session, sequence_id: str, now: datetime, limit: int) -> int:
    """Leads whose sunset ran out with no engagement since it began."""
    ended = aliased(Enrollment)
    query = (
        select(Lead)
        .join(ended, ended.lead_id == Lead.id)
        .where(
            Lead.contact_status == "active",
            ended.sequence_id == sequence_id,
            ended.status == "exited",
            ended.exit_reason == UNENGAGED_EXIT,
            or_(Lead.last_engaged_at.is_(None), Lead.last_engaged_at < ended.started_at),
            ~exists().where(
                and_(
                    Enrollment.lead_id == Lead.id,
                    Enrollment.status.in_(LIVE_STATUSES),
                )
            ),
        )
        .limit(limit)
    )
    count = 0
    for lead in session.scalars(query):
        lead.contact_status = "unengaged"
        lead.contact_status_changed_at = now
        lead.updated_at = now
        count += 1
    return count
