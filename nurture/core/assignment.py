"""Who gets a sales-ready lead, and why: pure, so a handoff can be explained and tested.

1. The first assignment rule for the stage whose ``when`` holds names the team.
2. Sticky accounts: a lead of an account whose owner is in that team and available goes to
   the owner (the round robin is not advanced: the owner did not take a turn).
3. Otherwise smooth weighted round robin (nginx's algorithm) over the team's available
   reps: each candidate's current weight grows by its weight, the highest wins (ties by
   name) and gives back the candidates' total. Weights 2:1:1 give A B C A, A B C A...:
   every four leads exactly 2, 1 and 1, spread out rather than in runs. A rep who is
   skipped keeps their current weight, so coming back from holiday does not bring a flood
   of catch-up leads.

Available means: not in ``exclude`` (the previous owner on an SLA reassignment), not away,
under their daily cap (counted per their own local date) and, with ``outside_hours: skip``,
at work now; when nobody in the team is at work, everyone otherwise available is a candidate
(so a lead at night still has an owner, and ``why`` says so).

The caller stores ``Assignment.states`` back: that is what makes the next turn fair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from nurture.core.conditions import (
    AllOf,
    AnyOf,
    AttributeIs,
    Condition,
    Engaged,
    LeadFacts,
    Not,
    evaluate,
)
from nurture.core.handoff_model import AssignmentRule, HandoffModel, OutsideHours, Rep
from nurture.core.windows import as_utc
from nurture.core.working_time import at_work, local_day, local_time


@dataclass(frozen=True)
class RepSnapshot:
    """A rep's live state (the ``rep_states`` row); the defaults are a rep never assigned."""

    away_until: datetime | None = None
    current_weight: int = 0
    day: str | None = None  # the rep's local date that ``assigned_today`` counts
    assigned_today: int = 0

    def count_on(self, day: str) -> int:
        return self.assigned_today if self.day == day else 0


@dataclass(frozen=True)
class Assignment:
    """The rep (None: nobody available or no rule), their team, ``why`` as JSON-ready data,
    and the snapshots of the team to store back."""

    rep: str | None
    team: str | None
    why: dict[str, object]
    states: Mapping[str, RepSnapshot] = field(default_factory=dict)


def matching_rule(
    model: HandoffModel, stage: str, lead_facts: Mapping[str, object]
) -> tuple[int, AssignmentRule] | None:
    """The first rule for ``stage`` whose condition holds, with its index in the model."""
    facts = LeadFacts(attributes=lead_facts)
    for index, rule in enumerate(model.rules):
        if rule.stage == stage and (rule.when is None or evaluate(rule.when, facts)):
            return index, rule
    return None


def assign(
    model: HandoffModel,
    stage: str,
    lead_facts: Mapping[str, object],
    states: Mapping[str, RepSnapshot],
    now: datetime,
    *,
    account_owner: str | None,
    exclude: frozenset[str] = frozenset(),
) -> Assignment:
    """Pick the rep for a lead reaching ``stage``; see the module docstring for the rules."""
    now = as_utc(now)
    found = matching_rule(model, stage, lead_facts)
    if found is None:
        reason = f"no assignment rule for {stage} matches this lead"
        return Assignment(None, None, {"stage": stage, "rule": None, "reason": reason})
    index, rule = found
    team = model.team(rule.team)
    snapshots = {rep.name: states.get(rep.name, RepSnapshot()) for rep in team}
    why: dict[str, object] = {"stage": stage, "rule": describe_rule(index, rule)}
    blocked = {rep.name: _blocked(rep, snapshots[rep.name], now, exclude) for rep in team}
    off_hours = {
        rep.name: _off_hours(rep, now)
        for rep in team
        if model.outside_hours is OutsideHours.SKIP and not at_work(rep, now)
    }
    available = [rep for rep in team if blocked[rep.name] is None]
    candidates = [rep for rep in available if rep.name not in off_hours]
    if available and not candidates:
        candidates = available
        off_hours = {}
        why["fallback"] = f"nobody in {rule.team} is at work now: all available reps considered"
    why["skipped"] = [
        {"rep": rep.name, "reason": skip}
        for rep in team
        if (skip := blocked[rep.name] or off_hours.get(rep.name))
    ]
    owner = _sticky_owner(model, team, account_owner, candidates, why)
    if owner is not None:
        why.update(method="sticky", reason=f"{owner.name} owns the lead's account")
        return _chosen(owner, rule.team, why, snapshots, now)
    if not candidates:
        why.update(method="none", reason=f"nobody in {rule.team} is available")
        return Assignment(None, rule.team, why, snapshots)
    winner, snapshots = _round_robin(candidates, snapshots)
    shares = ", ".join(f"{rep.name} {rep.weight}" for rep in candidates)
    why.update(method="round_robin", reason=f"round robin in {rule.team} (weights: {shares})")
    return _chosen(winner, rule.team, why, snapshots, now)


def describe_rule(index: int, rule: AssignmentRule) -> dict[str, object]:
    """The rule as a sales manager reads it: its number (1-based), stage, team, condition."""
    when = describe_condition(rule.when) if rule.when is not None else None
    return {"number": index + 1, "stage": rule.stage, "team": rule.team, "when": when}


def describe_condition(condition: Condition) -> str:
    """``country in [US, CA] and company_size gte 200``: a condition in one line."""
    match condition:
        case AttributeIs(attribute=name, op=op, value=value):
            shown = f"[{', '.join(map(str, value))}]" if isinstance(value, tuple) else value
            return f"{name} {op.value} {shown}"
        case Engaged(event=event, step=step):
            return f"{event} {step}" if step else event
        case AllOf(conditions=parts) | AnyOf(conditions=parts):
            joiner = " and " if isinstance(condition, AllOf) else " or "
            return joiner.join(f"({describe_condition(part)})" for part in parts)
        case Not(condition=inner):
            return f"not ({describe_condition(inner)})"
    raise TypeError(f"not a condition: {condition!r}")


def _blocked(rep: Rep, state: RepSnapshot, now: datetime, exclude: frozenset[str]) -> str | None:
    """Why ``rep`` cannot take a lead now, whatever the hour; None if they can."""
    if rep.name in exclude:
        return "previous owner of this lead"
    if state.away_until is not None and as_utc(state.away_until) > now:
        return f"away until {as_utc(state.away_until):%Y-%m-%d %H:%M} UTC"
    if rep.daily_cap is not None and state.count_on(local_day(rep, now)) >= rep.daily_cap:
        return f"daily cap {rep.daily_cap} reached"
    return None


def _off_hours(rep: Rep, now: datetime) -> str:
    local = local_time(rep, now)
    days = rep.hours.days if rep.hours is not None else frozenset(range(7))
    clock = f"{local:%H:%M}" if local.weekday() in days else f"{local:%a %H:%M}"
    return f"outside working hours ({clock} in {rep.time_zone})"


def _sticky_owner(
    model: HandoffModel,
    team: tuple[Rep, ...],
    account_owner: str | None,
    candidates: list[Rep],
    why: dict[str, object],
) -> Rep | None:
    """The account's owner if they may take this lead; else say why not (when it matters)."""
    if not model.sticky_accounts or account_owner is None:
        return None
    owner = next((rep for rep in team if rep.name == account_owner), None)
    if owner is None:
        why["sticky"] = f"account owner {account_owner} is not in this team"
    elif owner not in candidates:
        why["sticky"] = f"account owner {account_owner} is not available"
    return owner if owner in candidates else None


def _round_robin(
    candidates: list[Rep], snapshots: dict[str, RepSnapshot]
) -> tuple[Rep, dict[str, RepSnapshot]]:
    """Smooth weighted round robin: one turn over ``candidates``."""
    raised = {rep.name: snapshots[rep.name].current_weight + rep.weight for rep in candidates}
    winner = min(candidates, key=lambda rep: (-raised[rep.name], rep.name))
    raised[winner.name] -= sum(rep.weight for rep in candidates)
    updated = dict(snapshots)
    for name, weight in raised.items():
        updated[name] = replace(snapshots[name], current_weight=weight)
    return winner, updated


def _chosen(
    rep: Rep, team: str, why: dict[str, object], snapshots: dict[str, RepSnapshot], now: datetime
) -> Assignment:
    day = local_day(rep, now)
    state = snapshots[rep.name]
    counted = replace(state, day=day, assigned_today=state.count_on(day) + 1)
    return Assignment(rep.name, team, why, {**snapshots, rep.name: counted})
