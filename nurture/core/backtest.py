"""Backtest: replay a lead's stored history through a scoring model, with the clock at each
of its events, and say which stages the ladder would have moved it through.

Pure (DESIGN invariant 6): plain dataclasses in, plain dataclasses out. The database side
is ``nurture.services.backtest_data``; the tally of many replays into the side-by-side
figures is ``nurture.core.backtest_report``.

The replay of one lead, for one model:

- it starts at ``start_stage`` (the stage the lead was created in) at ``created_at``, which
  is also when it "entered" that stage (hand-raiser events before it do not count, as in
  production, where ``stage_entered_at`` is set at creation);
- at each moment one of its events happened (events at the same moment together; events
  from before the lead existed are taken at ``created_at``), up to ``end``, the card is
  computed with the clock at that moment and the ladder applied once, as
  ``process_engagement`` does after each event. A change moves the simulated lead and
  resets ``since``;
- only the ladder moves it. Sales feedback (accepted, rejected, won) and sunset are not
  replayed: they answered the stages the old model produced, so they are the ground truth
  the report measures against (``won_at``), not inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from nurture.core.ladder import DecisionKind, decide, position
from nurture.core.lead import LeadProfile
from nurture.core.scoring import score
from nurture.core.scoring_model import AccountActivity, ScoredEvent, ScoringModel

__all__ = [
    "Contender",
    "LeadHistory",
    "Move",
    "Replay",
    "Window",
    "replay",
]


@dataclass(frozen=True)
class Window:
    """The period the report counts: stage changes at ``start <= at <= end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(
                f"the window starts ({self.start.isoformat()}) after it ends "
                f"({self.end.isoformat()})"
            )

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.start <= at <= self.end


@dataclass(frozen=True)
class LeadHistory:
    """What a backtest knows about one stored lead. ``events`` are its events up to the end
    of the window (any order); ``account_activity`` the engagement of the other leads of
    its account (for the account signal); ``won_at`` when sales marked it won (the first
    real stage change to the won stage), None if never; ``accepted_at`` when sales first
    accepted one of its handoffs; ``stage_now`` its real stage today."""

    lead_id: int
    email: str
    profile: LeadProfile
    created_at: datetime
    start_stage: str
    stage_now: str
    events: Sequence[ScoredEvent] = ()
    account_attributes: Mapping[str, object] = field(default_factory=dict)
    account_activity: Sequence[AccountActivity] = ()
    won_at: datetime | None = None
    accepted_at: datetime | None = None  # sales first accepted (or won) one of its handoffs


@dataclass(frozen=True)
class Contender:
    """A model in the comparison: ``name`` (``current``, ``candidate``), where it came from
    (``source``, a file path) and the model itself."""

    name: str
    model: ScoringModel
    source: str = ""


@dataclass(frozen=True)
class Move:
    """A simulated stage change, with the rule that made it and the event that tipped it."""

    at: datetime
    from_stage: str
    to_stage: str
    kind: DecisionKind
    rule: str
    event_id: int | None


@dataclass(frozen=True)
class Replay:
    moves: tuple[Move, ...]
    final_stage: str  # the simulated stage at the end of the window


def replay(
    history: LeadHistory, model: ScoringModel, ladder: Sequence[str], end: datetime
) -> Replay:
    """Replay ``history`` through ``model`` up to ``end``: every simulated stage change."""
    stage = history.start_stage
    if model.empty:
        return Replay((), stage)
    events = [e for e in history.events if e.occurred_at <= end]
    since = history.created_at
    moves: list[Move] = []
    for now in moments(history.events, history.created_at, end):
        if position(stage, model, ladder) is None:
            break  # scores never move a lead from here (sql, customer, disqualified)
        card = score(
            history.profile,
            events,
            model,
            now,
            account_attributes=history.account_attributes,
            account_activity=history.account_activity,
            lead_id=history.lead_id,
        )
        decision = decide(stage, card, model, ladder, since=since)
        if decision is None or decision.to_stage == stage:
            continue
        moves.append(
            Move(now, stage, decision.to_stage, decision.kind, decision.rule, decision.event_id)
        )
        stage, since = decision.to_stage, now
    return Replay(tuple(moves), stage)


def moments(events: Sequence[ScoredEvent], created_at: datetime, end: datetime) -> list[datetime]:
    """When the ladder is applied: each distinct event time up to ``end``, events from before
    the lead existed taken at ``created_at``; oldest first."""
    return sorted({at for e in events if (at := max(e.occurred_at, created_at)) <= end})
