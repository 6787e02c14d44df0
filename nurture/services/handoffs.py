"""Handing a lead to sales: the stage listener that, in the transaction of the stage change,
assigns an owner, records the handoff with its SLA times, and writes one notification row
per channel (the outbox), each sent by ``deliver_notification`` after commit.

Links (accept / reject / won) are signed at send time from the handoff id, by the process
that holds the signing key, so nothing secret is stored in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nurture.core.assignment import Assignment
from nurture.core.funnel import Funnel
from nurture.core.handoff_model import Channel, HandoffModel, Rep
from nurture.core.working_time import working_deadline
from nurture.services.assignment import assign_lead
from nurture.services.scoring_inputs import DELIVERY_TYPES
from nurture.services.stages import StageChanged, on_stage_change
from nurture.services.uow import Jobs
from nurture.store.models import Account, Event, Handoff, Lead, Notification

ACTIVITIES = 5  # last real events shown to sales


def hand_off(session: Session, jobs: Jobs, funnel: Funnel, changed: StageChanged) -> None:
    """The stage listener: a lead reaching a handoff stage gets an owner and sales hears."""
    model = funnel.handoff
    if changed.to_stage not in model.stages:
        return
    lead = session.get(Lead, changed.lead_id)
    if lead is None:
        return
    now = changed.at
    _close_open(session, lead.id, now, superseded_by=changed.to_stage)
    assignment = assign_lead(session, funnel, lead, changed.to_stage, now)
    rep = model.rep(assignment.rep) if assignment.rep else None
    handoff = Handoff(
        lead_id=lead.id,
        stage_change_id=changed.change_id,
        stage=changed.to_stage,
        owner=assignment.rep,
        team=assignment.team,
        assignment=dict(assignment.why),
        status="open",
        assigned_at=now,
        reassignments=0,
        created_at=now,
        updated_at=now,
    )
    set_sla(handoff, model, rep, now)
    session.add(handoff)
    session.flush()
    context = handoff_context(session, lead, handoff, changed, assignment, model)
    notify(session, jobs, model, handoff, "handoff", context, rep, now)


def set_sla(handoff: Handoff, model: HandoffModel, rep: Rep | None, start: datetime) -> None:
    """Reminder and reassignment times, in the owner's working hours."""
    sla = model.sla.get(handoff.stage)
    if sla is None or rep is None:
        handoff.remind_at = handoff.reassign_at = None
        return
    handoff.remind_at = working_deadline(rep, start, sla.remind_after)
    handoff.reassign_at = working_deadline(rep, start, sla.reassign_after)


def notify(
    session: Session,
    jobs: Jobs,
    model: HandoffModel,
    handoff: Handoff,
    kind: str,
    context: dict[str, Any],
    rep: Rep | None,
    now: datetime,
    *,
    channels: Iterable[Channel] | None = None,
) -> list[Notification]:
    """One outbox row per channel (email only when there is an owner to write to), each
    enqueued after commit. The idempotency key makes a resend recognisable downstream."""
    rows = []
    serial = handoff.reassignments
    for channel in channels if channels is not None else model.channels:
        if channel is Channel.EMAIL and rep is None:
            continue
        row = Notification(
            handoff_id=handoff.id,
            lead_id=handoff.lead_id,
            kind=kind,
            channel=channel.value,
            recipient=rep.email if channel is Channel.EMAIL and rep else None,
            context=context | {"kind": kind},
            idempotency_key=f"handoff-{handoff.id}-{kind}-{serial}-{channel.value}",
            status="pending",
            attempts=0,
            next_attempt_at=None,  # due now; set only for retries (a lost job: updated_at)
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        jobs.enqueue("deliver_notification", row.id)
    return rows


def handoff_context(
    session: Session,
    lead: Lead,
    handoff: Handoff,
    changed: StageChanged | None,
    assignment: Assignment | None,
    model: HandoffModel,
) -> dict[str, Any]:
    """Everything sales needs to act, as the notifiers read it (docs/notifications.md)."""
    account = session.get(Account, lead.account_id) if lead.account_id is not None else None
    rep = model.rep(handoff.owner) if handoff.owner else None
    reason: dict[str, Any] = dict(changed.reason) if changed is not None else {}
    return {
        "handoff_id": handoff.id,
        "stage": handoff.stage,
        "from_stage": changed.from_stage if changed is not None else None,
        "lead": {
            "id": lead.id,
            "email": lead.email,
            "name": " ".join(p for p in (lead.first_name, lead.last_name) if p) or None,
            "title": lead.title,
            "company": lead.company,
            "country": lead.country,
            "fit_grade": lead.fit_grade,
            "fit_points": lead.fit_points,
            "engagement": lead.engagement,
        },
        "account": (
            {"domain": account.domain, "name": account.name, "engagement": account.engagement}
            if account is not None
            else None
        ),
        "reason": reason,
        "owner": (
            {"name": rep.name, "email": rep.email, "slack_id": rep.slack_id, "team": rep.team}
            if rep is not None
            else None
        ),
        "assigned_because": assignment.why.get("reason") if assignment is not None else None,
        "activities": _activities(session, lead.id),
    }


def _activities(session: Session, lead_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Event.type, Event.occurred_at, Event.url)
        .where(
            Event.lead_id == lead_id,
            Event.machine.is_(False),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(ACTIVITIES)
    )
    return [{"type": kind, "occurred_at": at.isoformat(), "url": url} for kind, at, url in rows]


def _close_open(session: Session, lead_id: int, now: datetime, *, superseded_by: str) -> None:
    """A lead handed off again (MQL accepted -> SQL) closes its earlier open handoff."""
    session.execute(
        update(Handoff)
        .where(Handoff.lead_id == lead_id, Handoff.status == "open")
        .values(
            status="superseded",
            outcome_reason=f"now {superseded_by}"[:40],
            remind_at=None,
            reassign_at=None,
            updated_at=now,
        )
    )


on_stage_change(hand_off)
