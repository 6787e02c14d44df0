"""Rescore leads and move them on the ladder: the work behind ``process_engagement``.

For a batch of leads, in the caller's transaction: lock them (id order), read their events
once, compute each score card with the pure core (the score is a function of events, model
and time, DESIGN invariant 2), write the cache columns, and apply the ladder's decision
through ``stages.change_stage`` with the reason: the rule, the top contributions and the
event that tipped it (invariant 4). Leads a fall-back rule could move as their engagement
decays get ``score_review_at``, so the review job rescores them without a full scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from typing import cast as typed

from sqlalchemy import BigInteger, Table, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from nurture.core.funnel import Funnel
from nurture.core.ladder import StageDecision, decide, review_at
from nurture.core.lead import LeadProfile
from nurture.core.scoring import Projection, ScoreCard, project, refit
from nurture.core.scoring_model import ScoredEvent
from nurture.services.engagement_match import one_of
from nurture.services.scoring_inputs import DELIVERY_TYPES, ScoringInputs, load_inputs
from nurture.services.situation import profile_of
from nurture.services.stages import Move, StageChanged, change_stages
from nurture.services.uow import Jobs
from nurture.store.bulk import update_rows
from nurture.store.models import Account, Lead

#: Engagement contributions kept in a stage change's reason.
TOP = 5
#: Leads per transaction when rescoring many (CLI, review job).
BATCH = 500
#: A lead handed to the review job is retaken after this if its job was lost.
REVIEW_LEASE = timedelta(minutes=10)


@dataclass
class Rescored:
    """What a batch did: leads scored, and the stage changes made."""

    scored: int = 0
    changes: list[StageChanged] = field(default_factory=list)


def rescore_leads(
    session: Session, jobs: Jobs, funnel: Funnel, lead_ids: Iterable[int], now: datetime
) -> Rescored:
    """Rescore ``lead_ids`` and apply the ladder. Never commits; idempotent (a second run
    with nothing new changes no stage)."""
    model = funnel.scoring
    ids = sorted(set(lead_ids))
    if model.empty or not ids:
        return Rescored()
    inputs = load_inputs(session, ids, model, now)
    outcome = Rescored()
    moves: list[Move] = []
    cached: list[dict[str, Any]] = []
    for lead in inputs.leads:
        profile = profile_of(lead)
        attributes = inputs.account_attributes(lead)
        projection = projection_for(inputs, lead, profile, attributes, funnel, now)
        card = projection.card
        decision = decide(lead.stage, card, model, funnel.ladder, since=lead.stage_entered_at)
        stage, since = lead.stage, lead.stage_entered_at
        if decision is not None:
            reason = stage_reason(decision, card)
            moves.append(Move(lead, decision.to_stage, reason, decision.event_id))
            stage, since = decision.to_stage, now
            profile = replace(profile, stage=stage)  # the moved lead, as review_at sees it
            projection = refit(projection, profile, attributes)
        review = review_at(
            stage,
            profile,
            inputs.events.get(lead.id, []),
            model,
            now,
            ladder=funnel.ladder,
            since=since,
            account_attributes=attributes,
            account_activity=inputs.account_activity(lead),
            lead_id=lead.id,
            projection=projection,  # of these inputs: review_at need not score them again
        )
        engaged = _last_engaged(lead, inputs.events.get(lead.id, ()), now)
        cached.append(_cache(lead, card, review, engaged, funnel.version, now))
        outcome.scored += 1
    update_rows(session, Lead, cached)
    # Accounts before stage changes: their listeners (the handoff's assignment) may lock the
    # lead's account, already locked here in id order, so every batch takes its locks in one
    # order (leads, accounts, then what listeners need) and two batches cannot deadlock.
    _roll_up_accounts(session, [lead.account_id for lead in inputs.leads], now)
    outcome.changes.extend(change_stages(session, jobs, funnel, moves, now))
    return outcome


def card_for(inputs: ScoringInputs, lead: Lead, funnel: Funnel, now: datetime) -> ScoreCard:
    attributes = inputs.account_attributes(lead)
    return projection_for(inputs, lead, profile_of(lead), attributes, funnel, now).card


def projection_for(
    inputs: ScoringInputs,
    lead: Lead,
    profile: LeadProfile,
    account_attributes: dict[str, object],
    funnel: Funnel,
    now: datetime,
) -> Projection:
    return project(
        profile,
        inputs.events.get(lead.id, []),
        funnel.scoring,
        now,
        account_attributes=account_attributes,
        account_activity=inputs.account_activity(lead),
        lead_id=lead.id,
    )


def stage_reason(decision: StageDecision, card: ScoreCard) -> dict[str, Any]:
    """The ``stage_changes.reason`` document: the rule, the scores and what made them."""
    return {
        "kind": decision.kind,
        "rule": decision.rule,
        "fit": {"grade": card.fit_grade, "points": card.fit_points},
        "engagement": card.engagement,
        "top": [c.as_dict() for c in card.contributions[:TOP]],  # largest first
        "fit_rules": [c.as_dict() for c in card.fit],
        "event_id": decision.event_id,
    }


def _last_engaged(lead: Lead, events: Iterable[ScoredEvent], now: datetime) -> datetime | None:
    """The lead's latest real engagement (the sunset reads it), never moved back: a recycled
    lead's events before its recycling are not in ``events`` but still happened."""
    times = [
        e.occurred_at
        for e in events
        if not e.machine and e.type not in DELIVERY_TYPES and e.occurred_at <= now
    ]
    known = [t for t in (lead.last_engaged_at, max(times, default=None)) if t is not None]
    return max(known, default=None)


def _cache(
    lead: Lead,
    card: ScoreCard,
    review: datetime | None,
    engaged: datetime | None,
    version: str,
    now: datetime,
) -> dict[str, Any]:
    """The lead's cache columns as a row for one bulk UPDATE of the batch, also set on the
    loaded object as committed values: it stays true to the row without the ORM flushing
    each lead on its own."""
    row: dict[str, Any] = {
        "id": lead.id,
        "fit_points": card.fit_points,
        "fit_grade": card.fit_grade,
        "engagement": card.engagement,
        "scored_at": now,
        "score_version": version,
        "score_review_at": review,
        "last_engaged_at": engaged,
    }
    for name, value in row.items():
        if name != "id":
            set_committed_value(lead, name, value)
    return row


def _roll_up_accounts(session: Session, account_ids: Iterable[int | None], now: datetime) -> None:
    """Account engagement = the sum of its leads' cached engagement: one query for the sums
    and one executemany UPDATE in account id order (concurrent batches lock accounts in the
    same order). Core statements: an ORM UPDATE per account evaluated its criteria against
    every object in the session, quadratic in the batch."""
    ids = sorted({a for a in account_ids if a is not None})
    if not ids:
        return
    session.flush()
    rows = session.execute(
        select(Lead.account_id, func.coalesce(func.sum(Lead.engagement), 0.0))
        .where(one_of(session, Lead.account_id, ids, BigInteger()))
        .group_by(Lead.account_id)
    )
    totals = {account_id: total for account_id, total in rows}
    accounts = typed(Table, Account.__table__)
    session.execute(
        update(accounts)
        .where(accounts.c.id == bindparam("account_id"))
        .values(engagement=bindparam("total"), scored_at=now),
        [
            {"account_id": account_id, "total": round(float(totals.get(account_id) or 0.0), 1)}
            for account_id in ids
        ],
    )


def due_for_review(session: Session, jobs: Jobs, now: datetime, limit: int = BATCH) -> int:
    """Hand leads whose decay review is due to ``process_engagement`` (after commit), with a
    lease so a lost job is retaken; several schedulers never take the same lead."""
    query = (
        select(Lead.id)
        .where(Lead.score_review_at <= now)
        .order_by(Lead.score_review_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = sorted(session.scalars(query))
    if not ids:
        return 0
    session.execute(
        update(Lead)
        .where(one_of(session, Lead.id, ids, BigInteger()))
        .values(score_review_at=now + REVIEW_LEASE)
    )
    jobs.enqueue("process_engagement", ids)
    return len(ids)
