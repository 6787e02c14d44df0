"""Sales' answer to a handoff, and what it does to the lead.

``accepted`` moves an MQL to SQL (then the SQL handoff assigns an account executive),
``rejected`` with a reason recycles or disqualifies it, ``won`` makes it a customer (out of
all nurture), ``lost`` recycles it; the funnel's ``handoff.feedback`` says exactly where
each goes. Who answered and when is recorded. A second answer is refused unless it moves
the lead forward (accepted, then won or lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.core.handoff_model import REJECT_REASONS, FeedbackRules, Outcome
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.services.stages import StageChanged, change_stage
from nurture.services.uow import Jobs
from nurture.store.models import Handoff, HandoffAnswer, Lead

#: Answers that may follow each status; anything else is a second answer, refused.
NEXT: dict[str, tuple[Outcome, ...]] = {
    "open": tuple(Outcome),
    "superseded": (),
    "accepted": (Outcome.WON, Outcome.LOST),
    "rejected": (),
    "won": (),
    "lost": (),
}


@dataclass(frozen=True)
class Answered:
    handoff_id: int
    lead_id: int
    outcome: Outcome
    stage: str  # where the lead is now
    change: StageChanged | None


def target_stage(
    rules: FeedbackRules, handoff_stage: str, outcome: Outcome, reason: str | None
) -> str | None:
    """Where the answer sends the lead; None: it stays where it is."""
    if outcome is Outcome.ACCEPTED:
        return rules.accepted.get(handoff_stage)
    if outcome is Outcome.REJECTED:
        return rules.rejected.get(reason or "")
    if outcome is Outcome.WON:
        return rules.won
    return rules.lost


def record_answer(
    session: Session,
    jobs: Jobs,
    funnel: Funnel,
    handoff_id: int,
    outcome: Outcome,
    now: datetime,
    *,
    reason: str | None = None,
    note: str | None = None,
    by: str | None = None,
    via: str = "api",
) -> Answered:
    """Record the answer and move the lead. Never commits; raises InvalidInput for a bad
    reason, NotFound for an unknown handoff, Conflict for a second answer."""
    if outcome is Outcome.REJECTED and reason not in REJECT_REASONS:
        raise InvalidInput(
            f"a rejection needs a reason: one of {', '.join(REJECT_REASONS)}"
            + (f" (got {reason!r})" if reason else "")
        )
    if outcome is not Outcome.REJECTED and reason is not None and outcome is not Outcome.LOST:
        raise InvalidInput(f"only rejected and lost take a reason, not {outcome.value}")
    handoff = session.get(Handoff, handoff_id, with_for_update=True)
    if handoff is None:
        raise NotFound(f"no handoff with id {handoff_id}")
    lead = session.get(Lead, handoff.lead_id, with_for_update={"key_share": True})
    if lead is None:
        raise NotFound(f"no lead with id {handoff.lead_id}")
    if outcome not in NEXT.get(handoff.status, ()):
        raise Conflict(_already(session, handoff, outcome))
    session.add(
        HandoffAnswer(
            handoff_id=handoff.id,
            outcome=outcome.value,
            reason=reason,
            note=note,
            answered_by=by,
            via=via,
            at=now,
        )
    )
    handoff.status = outcome.value
    handoff.outcome_reason = reason
    handoff.answered_at = handoff.answered_at or now
    handoff.remind_at = handoff.reassign_at = None
    handoff.updated_at = now
    change = None
    target = target_stage(funnel.handoff.feedback, handoff.stage, outcome, reason)
    if target is not None and target != lead.stage:
        why = {
            "kind": "feedback",
            "rule": f"sales {outcome.value}" + (f" ({reason})" if reason else ""),
            "outcome": outcome.value,
            "reason": reason,
            "by": by,
            "via": via,
            "handoff_id": handoff.id,
        }
        change = change_stage(session, jobs, funnel, lead, target, why, now)
    return Answered(handoff.id, lead.id, outcome, lead.stage, change)


def _already(session: Session, handoff: Handoff, outcome: Outcome) -> str:
    last = session.scalars(
        select(HandoffAnswer)
        .where(HandoffAnswer.handoff_id == handoff.id)
        .order_by(HandoffAnswer.at.desc(), HandoffAnswer.id.desc())
        .limit(1)
    ).first()
    if handoff.status == "superseded":
        return (
            f"handoff {handoff.id} is closed: the lead has moved on "
            f"({handoff.outcome_reason}); answer its newer handoff instead"
        )
    who = f" by {last.answered_by}" if last is not None and last.answered_by else ""
    when = f" at {last.at.isoformat(timespec='minutes')}" if last is not None else ""
    allowed = NEXT.get(handoff.status, ())
    hint = (
        f"; it can still become {' or '.join(o.value for o in allowed)}"
        if allowed
        else "; that answer is final"
    )
    return f"handoff {handoff.id} was already answered {handoff.status!r}{who}{when}{hint}"
