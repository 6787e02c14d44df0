"""The ``handoff`` section of nurture.yaml into a ``HandoffModel``: reps, assignment rules
per handoff stage, working-hours policy, stickiness, channels, SLAs, feedback.

Absent, null or ``{}``: the empty model (the funnel hands nobody to sales). See
docs/handoff.md for every key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nurture.config.conditions import condition
from nurture.config.handoff_feedback import parse_feedback, parse_sla
from nurture.config.handoff_reps import parse_reps
from nurture.config.nodes import Node, choice, fields, text
from nurture.config.problems import did_you_mean
from nurture.config.refs import Refs
from nurture.core.conditions import AllOf, AnyOf, Condition, Engaged, Not
from nurture.core.handoff_model import (
    AssignmentRule,
    Channel,
    FeedbackRules,
    HandoffModel,
    OutsideHours,
    Rep,
)

if TYPE_CHECKING:
    from nurture.config.pipeline import Stages

SECTION_KEYS = (
    "reps",
    "assignment",
    "outside_hours",
    "sticky_accounts",
    "channels",
    "sla",
    "feedback",
)
SECTION_HINT = (
    "a mapping (the handoff) with " + ", ".join(SECTION_KEYS) + ", or {}; see docs/handoff.md"
)
RULE_HINT = "a rule such as {stage: sql, team: ae-emea, when: {attribute: country, in: [DE]}}"
CHANNELS = tuple(channel.value for channel in Channel)
OUTSIDE_HOURS = tuple(policy.value for policy in OutsideHours)


def parse_handoff(node: Node, stages: Stages | None) -> HandoffModel | None:
    """The model, or None when the section has problems (each recorded at its place).
    ``stages`` None: nurture.yaml's stages are broken, stage names go unchecked."""
    if node.value is None or node.value == {}:
        return HandoffModel()
    parts = fields(node, [], SECTION_KEYS, what=SECTION_HINT)
    if parts is None:
        return None
    before = len(node.problems)
    reps = parse_reps(parts["reps"]) if "reps" in parts else ()
    rules: tuple[AssignmentRule, ...] | None = ()
    if "assignment" in parts:
        rules = _rules(parts["assignment"], stages, reps)
    outside = OutsideHours.SKIP
    if "outside_hours" in parts:
        what = "skip (reps off work get no leads) or ignore (working hours do not matter)"
        outside = OutsideHours(choice(parts["outside_hours"], OUTSIDE_HOURS, what) or "skip")
    sticky = _flag(parts["sticky_accounts"]) if "sticky_accounts" in parts else True
    channels = _channels(parts["channels"]) if "channels" in parts else HandoffModel().channels
    handoff_stages = {rule.stage for rule in rules} if rules is not None else None
    sla = parse_sla(parts["sla"], stages, handoff_stages) if "sla" in parts else {}
    feedback = parse_feedback(parts["feedback"], stages) if "feedback" in parts else None
    if len(node.problems) != before or reps is None or rules is None or sla is None:
        return None
    if channels is None or sticky is None:
        return None
    return HandoffModel(
        reps=reps,
        rules=rules,
        channels=channels,
        outside_hours=outside,
        sla=sla,
        feedback=feedback or FeedbackRules(),
        sticky_accounts=sticky,
    )


def _rules(
    node: Node, stages: Stages | None, reps: tuple[Rep, ...] | None
) -> tuple[AssignmentRule, ...] | None:
    """First matching rule per stage wins; a rule behind an unconditional one for the same
    stage could never match, so it is refused."""
    if not isinstance(node.value, list):
        node.expected("a list of rules, each " + RULE_HINT)
        return None
    before = len(node.problems)
    teams = sorted({rep.team for rep in reps}) if reps is not None else None
    out: list[AssignmentRule] = []
    catch_all: dict[str, int] = {}
    for item in node.items():
        rule = _rule(item, stages, teams)
        if rule is None:
            continue
        if rule.stage in catch_all:
            item.error(
                f"found a rule for {rule.stage} after the one at line {catch_all[rule.stage]}, "
                "which has no when and takes every lead; expected it before that one"
            )
        elif rule.when is None:
            catch_all[rule.stage] = item.line()
        out.append(rule)
    return tuple(out) if len(node.problems) == before else None


def _rule(node: Node, stages: Stages | None, teams: list[str] | None) -> AssignmentRule | None:
    parts = fields(node, ["stage", "team"], ["when"], what=RULE_HINT)
    if parts is None or "stage" not in parts or "team" not in parts:
        return None
    if stages is None:
        stage = text(parts["stage"], "a stage")
    else:
        what = "a stage of the ladder: " + ", ".join(stages.ladder)
        stage = choice(parts["stage"], stages.ladder, what)
    team = text(parts["team"], "a team name")
    if team is not None and teams is not None and team not in teams:
        known = ": " + ", ".join(teams) if teams else " (handoff.reps has none yet)"
        parts["team"].expected(f"a team of handoff.reps{known}", did_you_mean(team, teams))
        team = None
    when: Condition | None = None
    if "when" in parts:
        when = condition(parts["when"], Refs())
        if when is not None and _uses_engagement(when):
            parts["when"].error(
                "found an engagement condition; expected conditions on lead or account "
                "attributes (territory: country, company_size, industry...)"
            )
            return None
        if when is None:
            return None
    if stage is None or team is None:
        return None
    return AssignmentRule(stage=stage, team=team, when=when)


def _uses_engagement(cond: Condition) -> bool:
    match cond:
        case Engaged():
            return True
        case AllOf(conditions=parts) | AnyOf(conditions=parts):
            return any(_uses_engagement(part) for part in parts)
        case Not(condition=inner):
            return _uses_engagement(inner)
    return False


def _flag(node: Node) -> bool | None:
    if isinstance(node.value, bool):
        return node.value
    node.expected("true or false")
    return None


def _channels(node: Node) -> tuple[Channel, ...] | None:
    if not isinstance(node.value, list) or not node.value:
        node.expected("a list of channels (at least one): " + ", ".join(CHANNELS))
        return None
    out: list[Channel] = []
    for item in node.items():
        name = choice(item, CHANNELS, "a channel: " + ", ".join(CHANNELS))
        if name is None:
            continue
        if Channel(name) in out:
            item.expected("each channel once")
            continue
        out.append(Channel(name))
    return tuple(out) if len(out) == len(node.value) else None
