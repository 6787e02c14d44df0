"""Why a lead is where it is: its score card now, the ladder rule that holds, what is
missing for the next stage, and its stage history. Read-only; the same document backs
``nurture explain EMAIL`` and ``GET /v1/leads/{id}/score``.

Computed live from the events (not from the cache columns), so it is always the truth for
the current model and clock (DESIGN invariant 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.core.durations import format_duration
from nurture.core.funnel import Funnel
from nurture.core.ladder import NextStage, StageDecision, decide, needs
from nurture.core.ladder_expr import evaluate
from nurture.core.scoring import ScoreCard
from nurture.core.scoring_model import LadderRule
from nurture.errors import NotFound
from nurture.services.scoring import card_for
from nurture.services.scoring_inputs import load_inputs
from nurture.store.models import Lead, StageChange

HISTORY = 10  # stage changes shown, newest first


@dataclass(frozen=True)
class Explanation:
    lead_id: int
    email: str
    stage: str
    stage_since: datetime | None
    card: ScoreCard
    holding: LadderRule | None  # the current stage's ladder rule, when it holds now
    next_stage: NextStage | None
    pending: StageDecision | None  # what the next rescore would do (e.g. after a model change)
    history: list[dict[str, Any]]
    decay: dict[str, Any]
    model_version: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "email": self.email,
            "stage": self.stage,
            "stage_since": _iso(self.stage_since),
            "score": self.card.as_dict(),
            "holding_rule": (
                {"stage": self.holding.stage, "rule": self.holding.source} if self.holding else None
            ),
            "next_stage": self.next_stage.stage if self.next_stage else None,
            "needs": self.next_stage.text() if self.next_stage else None,
            "needs_any_of": [list(a) for a in self.next_stage.alternatives]
            if self.next_stage
            else [],
            "pending_change": (
                {
                    "to_stage": self.pending.to_stage,
                    "kind": self.pending.kind,
                    "rule": self.pending.rule,
                }
                if self.pending
                else None
            ),
            "decay": self.decay,
            "history": self.history,
            "model_version": self.model_version,
            "at": self.at.isoformat(),
        }


def lead_id_for_email(session: Session, email: str) -> int:
    found = session.scalar(select(Lead.id).where(Lead.email == email.strip().lower()))
    if found is None:
        raise NotFound(f"no lead with email {email!r}")
    return found


def explain_lead(session: Session, funnel: Funnel, lead_id: int, now: datetime) -> Explanation:
    model = funnel.scoring
    inputs = load_inputs(session, [lead_id], model, now, lock=False)
    if not inputs.leads:
        raise NotFound(f"no lead with id {lead_id}")
    lead = inputs.leads[0]
    card = card_for(inputs, lead, funnel, now)
    since = lead.stage_entered_at
    values = card.values(since)
    holding = next(
        (
            rule
            for rule in model.ladder
            if rule.stage == lead.stage and evaluate(rule.expression, values)
        ),
        None,
    )
    return Explanation(
        lead_id=lead.id,
        email=lead.email,
        stage=lead.stage,
        stage_since=since,
        card=card,
        holding=holding,
        next_stage=needs(lead.stage, card, model, funnel.ladder, since=since),
        pending=decide(lead.stage, card, model, funnel.ladder, since=since),
        history=_history(session, lead.id),
        decay={
            "half_life": format_duration(half_life)
            if (half_life := model.decay.half_life)
            else None,
            "floor": model.decay.floor,
        },
        model_version=funnel.version,
        at=now,
    )


def _history(session: Session, lead_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(StageChange)
        .where(StageChange.lead_id == lead_id)
        .order_by(StageChange.at.desc(), StageChange.id.desc())
        .limit(HISTORY)
    )
    return [
        {
            "from_stage": row.from_stage,
            "to_stage": row.to_stage,
            "at": _iso(row.at),
            "reason": row.reason,
            "event_id": row.event_id,
        }
        for row in rows
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
