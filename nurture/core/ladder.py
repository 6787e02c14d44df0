"""The lifecycle ladder: which stage a score card earns, what the next stage still needs,
and when decay alone will make a lead fall back.

Positions: a stage in ``ladder`` (lowest first) sits at its index; a side stage in
``model.promote_from`` (``recycled``) sits below the whole ladder, so any rule that holds
lifts it; any other stage (``disqualified``) never moves by score. A ladder stage at or above
the highest stage any ladder rule or hand-raiser names (``sql``, ``customer``) is terminal:
sales feedback and sunset move leads from there, not scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from nurture.core.ladder_expr import evaluate, shortfall
from nurture.core.lead import LeadProfile
from nurture.core.scoring import Projection, project
from nurture.core.scoring_card import ScoreCard
from nurture.core.scoring_model import AccountActivity, ScoredEvent, ScoringModel

DecisionKind = Literal["promotion", "hand_raiser", "fall_back"]
REVIEW_HALF_LIVES = 20  # past this many half-lives decay no longer changes anything
REVIEW_RESOLUTION = timedelta(hours=1)
_SIDE = -1  # position of a side stage the ladder may lift


@dataclass(frozen=True)
class StageDecision:
    """Move the lead to ``to_stage``. ``rule`` is the reason as a marketer reads it
    (``mql: fit in [A, B] and engagement >= 50``); ``event_id`` the event that tipped it
    (None for a fall-back: decay, not an event, usually causes those)."""

    to_stage: str
    kind: DecisionKind
    rule: str
    event_id: int | None


@dataclass(frozen=True)
class NextStage:
    """What the lead still needs for ``stage``: any one of ``alternatives``, each a list of
    needs that are all required."""

    stage: str
    alternatives: tuple[tuple[str, ...], ...]

    def text(self) -> str:
        """``needs 12 more engagement points, or a hand-raiser (demo-request)``."""
        if not self.alternatives:
            return f"qualifies for {self.stage}"
        return "needs " + ", or ".join(" and ".join(alt) for alt in self.alternatives)


def position(stage: str, model: ScoringModel, ladder: Sequence[str]) -> int | None:
    """Where ``stage`` stands for promotion; None when scores never move it."""
    if stage in ladder:
        index = ladder.index(stage)
        return None if index >= _top(model, ladder) else index
    return _SIDE if stage in model.promote_from else None


def _top(model: ScoringModel, ladder: Sequence[str]) -> int:
    named = [r.stage for r in model.ladder] + [h.stage for h in model.hand_raisers]
    return max((ladder.index(s) for s in named if s in ladder), default=-1)


def decide(
    stage: str,
    card: ScoreCard,
    model: ScoringModel,
    ladder: Sequence[str],
    *,
    since: datetime | None = None,
) -> StageDecision | None:
    """The stage change ``card`` earns for a lead in ``stage`` since ``since``, or None.

    The highest stage above the current one wins, whether a hand-raiser (after ``since``)
    or a ladder rule earns it (a hand-raiser at a tie); stages may be skipped. Only when
    nothing lifts the lead does a fall-back configured for its stage apply.
    """
    here = position(stage, model, ladder)
    if here is None:
        return None
    best: StageDecision | None = None
    best_at = here
    for hit in sorted(card.hand_raisers_since(since), key=lambda h: h.occurred_at):
        if hit.stage in ladder and ladder.index(hit.stage) > best_at:
            reason = f"hand-raiser {hit.rule}"
            best = StageDecision(hit.stage, "hand_raiser", reason, hit.event_id)
            best_at = ladder.index(hit.stage)
    for rule in model.ladder:
        at = ladder.index(rule.stage) if rule.stage in ladder else _SIDE
        if at > best_at and evaluate(rule.expression, _values(card, since, rule.stage, ladder)):
            reason = f"{rule.stage}: {rule.source}"
            best, best_at = StageDecision(rule.stage, "promotion", reason, card.last_event_id), at
    if best is not None:
        return best
    values = card.values(since)
    for fall in model.fall_back:
        if fall.stage == stage and evaluate(fall.expression, values):
            return StageDecision(fall.to, "fall_back", f"{stage} -> {fall.to}: {fall.source}", None)
    return None


def _values(
    card: ScoreCard, since: datetime | None, stage: str, ladder: Sequence[str]
) -> dict[str, object]:
    """``card.values(since)`` for a rule leading to ``stage``: there ``hand_raiser`` only
    counts hand-raisers that lead as high, so a pricing question (to mql) does not satisfy
    ``sql: hand_raiser or ...``."""
    values = card.values(since)
    at = ladder.index(stage) if stage in ladder else _SIDE
    values["hand_raiser"] = any(
        h.stage in ladder and ladder.index(h.stage) >= at for h in card.hand_raisers_since(since)
    )
    return values


def needs(
    stage: str,
    card: ScoreCard,
    model: ScoringModel,
    ladder: Sequence[str],
    *,
    since: datetime | None = None,
) -> NextStage | None:
    """What is missing for the next stage up that a rule or hand-raiser leads to; None
    when the lead cannot climb from ``stage``."""
    here = position(stage, model, ladder)
    if here is None:
        return None
    targets = [r.stage for r in model.ladder] + [h.stage for h in model.hand_raisers]
    above = sorted({ladder.index(s) for s in targets if s in ladder and ladder.index(s) > here})
    if not above:
        return None
    target = ladder[above[0]]
    raisers = [
        h.name
        for h in model.hand_raisers
        if h.stage in ladder and ladder.index(h.stage) >= above[0]
    ]
    phrase = f"a hand-raiser ({' or '.join(raisers)})" if raisers else "a hand-raiser"
    values = _values(card, since, target, ladder)
    found: list[tuple[str, ...]] = []
    for rule in model.ladder:
        if rule.stage != target:
            continue
        missing = shortfall(rule.expression, values, hand_raiser=phrase)
        if not missing:
            return NextStage(target, ())
        found.extend(tuple(alt) for alt in missing)
    if raisers:
        found.append((phrase,))
    return NextStage(target, tuple(dict.fromkeys(found)))


def review_at(
    stage: str,
    profile: LeadProfile,
    events: Sequence[ScoredEvent],
    model: ScoringModel,
    now: datetime,
    *,
    ladder: Sequence[str] | None = None,
    since: datetime | None = None,
    account_attributes: Mapping[str, object] | None = None,
    account_activity: Sequence[AccountActivity] = (),
    lead_id: int | None = None,
    projection: Projection | None = None,
) -> datetime | None:
    """The earliest moment (to the hour) at which, with no new events, the lead's stage
    falls back; None if no fall-back applies within ``REVIEW_HALF_LIVES`` half-lives (or
    the account window, without decay). Probes ``Projection.engagement_at`` (a few
    multiplications), not a full rescore, and assumes that once the fall-back holds it
    keeps holding as points decay (true for ``engagement < N`` with positive rules).
    With ``ladder`` the answer is also one where ``decide`` falls back (never for a
    terminal stage); without it, where a fall-back expression of ``stage`` holds.
    ``projection``: ``project`` of these very inputs, when the caller has it already."""
    falls_from = [f for f in model.fall_back if f.stage == stage]
    if not falls_from or (ladder is not None and position(stage, model, ladder) is None):
        return None
    if projection is None:
        projection = project(
            profile,
            events,
            model,
            now,
            account_attributes=account_attributes,
            account_activity=account_activity,
            lead_id=lead_id,
        )
    values = projection.card.values(since)

    def falls(at: datetime) -> bool:
        values["engagement"] = projection.engagement_at(at)
        return any(evaluate(f.expression, values) for f in falls_from)

    horizon = _horizon(model)
    if falls(now):
        found = now
    elif horizon is None or not falls(now + horizon):
        return None
    else:
        low, found = now, now + horizon
        while found - low > REVIEW_RESOLUTION:
            middle = low + (found - low) / 2
            low, found = (low, middle) if falls(middle) else (middle, found)
    if ladder is not None:
        decision = decide(stage, projection.card_at(found), model, ladder, since=since)
        if decision is None or decision.kind != "fall_back":
            return None
    return found


def _horizon(model: ScoringModel) -> timedelta | None:
    if model.decay.half_life is not None:
        return model.decay.half_life * REVIEW_HALF_LIVES
    return model.account.window if model.account is not None else None
