"""Handing a lead to sales: the stage listener that, in the transaction of the stage change,
assigns an owner, records the handoff with its SLA times, and writes one notification row
per channel (the outbox), sent after commit by one ``deliver_notifications`` job per channel.

Links (accept / reject / won) are signed at send time from the handoff id, by the process
that holds the signing key, so nothing secret is stored in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from nurture.core.assignment import Assignment
from nurture.core.funnel import Funnel
from nurture.core.handoff_model import Channel, HandoffModel, Rep
from nurture.core.working_time import working_deadline
from nurture.services.assignment import accounts_of, assign_leads
from nurture.services.engagement_match import one_of
from nurture.services.scoring_inputs import DELIVERY_TYPES
from nurture.services.stages import StageChanged, on_stage_change
from nurture.services.statements import dialect_of, ids_in
from nurture.services.uow import Jobs
from nurture.store.models import Account, Event, Handoff, Lead, Notification

ACTIVITIES = 5  # last real events shown to sales


def hand_off(session: Session, jobs: Jobs, funnel: Funnel, changes: Sequence[StageChanged]) -> None:
    """The stage listener: leads reaching a handoff stage get an owner and sales hears. A
    batch's handoffs take a constant number of statements: one to close earlier open
    handoffs, the assignments (``assign_leads``), one INSERT of handoffs, one query for the
    last activities and one INSERT of notification rows."""
    model = funnel.handoff
    handing = [change for change in changes if change.to_stage in model.stages]
    if not handing:
        return
    ids = [change.lead_id for change in handing]
    found = (session.get(Lead, i) for i in ids)  # the stage change's caller loaded them
    leads = {lead.id: lead for lead in found if lead is not None}
    handing = [change for change in handing if change.lead_id in leads]
    if not handing:
        return
    now = handing[0].at  # one batch, one clock
    for stage in sorted({change.to_stage for change in handing}):
        reaching = [change.lead_id for change in handing if change.to_stage == stage]
        _close_open(session, reaching, now, superseded_by=stage)
    requests = [(leads[change.lead_id], change.to_stage) for change in handing]
    accounts = accounts_of(session, [lead.account_id for lead in leads.values()])
    assignments = assign_leads(session, funnel, requests, now, accounts=accounts)
    handoffs = []
    for change, assignment in zip(handing, assignments, strict=True):
        handoff = Handoff(
            lead_id=change.lead_id,
            stage_change_id=change.change_id,
            stage=change.to_stage,
            owner=assignment.rep,
            team=assignment.team,
            assignment=dict(assignment.why),
            status="open",
            assigned_at=now,
            reassignments=0,
            created_at=now,
            updated_at=now,
        )
        set_sla(handoff, model, model.rep(assignment.rep) if assignment.rep else None, now)
        handoffs.append(handoff)
    session.add_all(handoffs)
    session.flush()
    activities = _activities(session, ids)
    outgoing = []
    for handoff, change, how in zip(handoffs, handing, assignments, strict=True):
        lead = leads[handoff.lead_id]
        account = _account(accounts, lead)
        context = _context(lead, account, handoff, change, how, model, activities)
        rep = model.rep(handoff.owner) if handoff.owner else None
        outgoing.append(Outgoing(handoff, "handoff", context, rep))
    notify_all(session, jobs, model, outgoing, now)


def set_sla(handoff: Handoff, model: HandoffModel, rep: Rep | None, start: datetime) -> None:
    """Reminder and reassignment times, in the owner's working hours."""
    sla = model.sla.get(handoff.stage)
    if sla is None or rep is None:
        handoff.remind_at = handoff.reassign_at = None
        return
    handoff.remind_at = working_deadline(rep, start, sla.remind_after)
    handoff.reassign_at = working_deadline(rep, start, sla.reassign_after)


@dataclass(frozen=True)
class Outgoing:
    """A notification to write for ``handoff``: its kind, what it says, to whom."""

    handoff: Handoff
    kind: str
    context: dict[str, Any]
    rep: Rep | None


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
    """``notify_all`` for one handoff."""
    outgoing = [Outgoing(handoff, kind, context, rep)]
    return notify_all(session, jobs, model, outgoing, now, channels=channels)


def notify_all(
    session: Session,
    jobs: Jobs,
    model: HandoffModel,
    outgoing: Sequence[Outgoing],
    now: datetime,
    *,
    channels: Iterable[Channel] | None = None,
) -> list[Notification]:
    """One outbox row per handoff and channel (email only when there is an owner to write
    to), flushed together, each enqueued after commit. The idempotency key makes a resend
    recognisable downstream."""
    rows = []
    chosen = list(channels) if channels is not None else list(model.channels)
    for item in outgoing:
        handoff, kind, rep = item.handoff, item.kind, item.rep
        serial = handoff.reassignments
        for channel in chosen:
            if channel is Channel.EMAIL and rep is None:
                continue
            rows.append(
                Notification(
                    handoff_id=handoff.id,
                    lead_id=handoff.lead_id,
                    kind=kind,
                    channel=channel.value,
                    recipient=rep.email if channel is Channel.EMAIL and rep else None,
                    context=item.context | {"kind": kind},
                    idempotency_key=f"handoff-{handoff.id}-{kind}-{serial}-{channel.value}",
                    status="pending",
                    attempts=0,
                    next_attempt_at=None,  # due now; set only for retries (lost job: updated_at)
                    created_at=now,
                    updated_at=now,
                )
            )
    session.add_all(rows)
    session.flush()
    by_channel: dict[str, list[int]] = {}  # one job per channel: a channel down delays
    for row in rows:  # only its own rows (deliver_notifications claims them together)
        by_channel.setdefault(row.channel, []).append(row.id)
    for ids in by_channel.values():
        jobs.enqueue("deliver_notifications", ids)
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
    activities = _activities(session, [lead.id])
    account = session.get(Account, lead.account_id) if lead.account_id is not None else None
    return _context(lead, account, handoff, changed, assignment, model, activities)


def _account(accounts: Mapping[int, Account], lead: Lead) -> Account | None:
    return accounts.get(lead.account_id) if lead.account_id is not None else None


def _context(
    lead: Lead,
    account: Account | None,
    handoff: Handoff,
    changed: StageChanged | None,
    assignment: Assignment | None,
    model: HandoffModel,
    activities: dict[int, list[dict[str, Any]]],
) -> dict[str, Any]:
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
        "activities": activities.get(lead.id, []),
    }


def _activities(session: Session, lead_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The last ACTIVITIES real events of each lead, newest first, in one query."""
    found: dict[int, list[dict[str, Any]]] = {}
    for lead_id, kind, at, url in session.execute(
        _activities_query(dialect_of(session)), {"ids": lead_ids}
    ):
        found.setdefault(lead_id, []).append(
            {"type": kind, "occurred_at": at.isoformat(), "url": url}
        )
    return found


@cache
def _activities_query(dialect: str) -> Select[int, str, datetime, str | None]:
    newest = (
        func.row_number()
        .over(
            partition_by=Event.lead_id,
            order_by=(Event.occurred_at.desc(), Event.id.desc()),
        )
        .label("newest")
    )
    ranked = (
        select(Event.lead_id, Event.type, Event.occurred_at, Event.url, newest)
        .where(
            ids_in(dialect, Event.lead_id, "ids"),
            Event.machine.is_(False),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .subquery()
    )
    return (
        select(ranked.c.lead_id, ranked.c.type, ranked.c.occurred_at, ranked.c.url)
        .where(ranked.c.newest <= ACTIVITIES)
        .order_by(ranked.c.lead_id, ranked.c.newest)
    )


def _among(
    session: Session, lead_ids: list[int], column: InstrumentedAttribute[Any] | None = None
) -> ColumnElement[bool]:
    return one_of(session, column if column is not None else Lead.id, lead_ids, BigInteger())


def _close_open(
    session: Session, lead_ids: list[int], now: datetime, *, superseded_by: str
) -> None:
    """A lead handed off again (MQL accepted -> SQL) closes its earlier open handoff."""
    reason = f"now {superseded_by}"[:40]
    session.execute(
        update(Handoff)
        .where(_among(session, lead_ids, Handoff.lead_id), Handoff.status == "open")
        .values(
            status="superseded",
            outcome_reason=reason,
            remind_at=None,
            reassign_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


on_stage_change(hand_off)
