"""``scoring.engagement`` (rules, caps, decay, patterns), ``scoring.account`` and
``scoring.hand_raisers`` into the core scoring types. Each reader records its problems on the
nodes and returns None for a broken part, so one run reports every mistake."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nurture.config.nodes import Node, choice, duration, fields, integer
from nurture.config.refs import StepRef
from nurture.config.scoring_events import (
    FILTER_KEYS,
    Named,
    event_filter,
    points,
    rule_list,
    rule_name,
    unique_names,
)
from nurture.core.scoring_model import (
    AccountSignal,
    Cap,
    Decay,
    EngagementRule,
    HandRaiser,
    Pattern,
    PatternKind,
)

if TYPE_CHECKING:
    from nurture.config.pipeline import Stages

RULE_HINT = "an engagement rule such as {name: pricing-page, event: page_view, points: 10}"
PATTERN_HINT = "a pattern such as {name: busy-week, kind: sessions, count: 3, within: 3d, ...}"
RAISER_HINT = "a hand-raiser such as {name: demo-request, event: demo_requested, stage: sql}"
ACCOUNT_HINT = "account signals such as {min_contacts: 2, window: 14d, points: 10}"
PATTERN_KEYS = {
    PatternKind.REPEAT_VISITS: ("count", "within", *FILTER_KEYS),
    PatternKind.SESSIONS: ("count", "within", *FILTER_KEYS),
    PatternKind.COMEBACK: ("quiet_for", *FILTER_KEYS),
}
PATTERN_REQUIRED = {
    PatternKind.REPEAT_VISITS: ("count", "within"),
    PatternKind.SESSIONS: ("count", "within"),
    PatternKind.COMEBACK: ("quiet_for",),
}
ANY_PATTERN_KEY = tuple(dict.fromkeys(key for keys in PATTERN_KEYS.values() for key in keys))

Engagement = tuple[tuple[EngagementRule, ...], tuple[Pattern, ...], Decay]


def engagement(node: Node, steps: list[StepRef]) -> Engagement | None:
    """``engagement: {rules, patterns, half_life, floor}``; names unique across both lists."""
    keys = ["rules", "patterns", "half_life", "floor"]
    parts = fields(node, [], keys, what="a mapping with rules, patterns, half_life and floor")
    if parts is None:
        return None
    named: Named = []
    rules = rule_list(parts.get("rules"), "engagement rules", _rule, named, steps)
    patterns = rule_list(parts.get("patterns"), "patterns", _pattern, named, steps)
    half_life = duration(parts["half_life"]) if "half_life" in parts else None
    floor = points(parts["floor"]) if "floor" in parts else 0.0
    if floor is not None and floor < 0:
        parts["floor"].expected("points of at least 0 (what a once-active lead keeps)")
        floor = None
    unique = unique_names(named, "engagement (rules and patterns together)")
    if rules is None or patterns is None or floor is None or not unique:
        return None
    if "half_life" in parts and half_life is None:
        return None
    return tuple(rules), tuple(patterns), Decay(half_life, floor)


def _rule(node: Node, named: Named, steps: list[StepRef]) -> EngagementRule | None:
    optional = ["cap", "decays", *FILTER_KEYS[1:]]
    parts = fields(node, ["name", "event", "points"], optional, what=RULE_HINT)
    if parts is None:
        return None
    name = rule_name(parts, named)
    match = event_filter(parts, steps)
    value = points(parts["points"]) if "points" in parts else None
    cap = _cap(parts["cap"]) if "cap" in parts else None
    decays = parts["decays"].value if "decays" in parts else True
    if not isinstance(decays, bool):
        parts["decays"].expected("true or false (false: these points never fade)")
        return None
    if name is None or match is None or value is None or ("cap" in parts and cap is None):
        return None
    return EngagementRule(name, match, value, cap, decays)


def _cap(node: Node) -> Cap | None:
    parts = fields(node, ["points", "per"], what="a cap such as {points: 5, per: 7d}")
    if parts is None:
        return None
    most = points(parts["points"]) if "points" in parts else None
    if most is not None and most <= 0:
        parts["points"].expected("more than 0 points (the most this rule gives per period)")
        most = None
    period = duration(parts["per"]) if "per" in parts else None
    return Cap(most, period) if most is not None and period is not None else None


def _pattern(node: Node, named: Named, steps: list[StepRef]) -> Pattern | None:
    """A behaviour pattern; which keys it takes depends on its ``kind``."""
    if not isinstance(node.value, dict):
        node.expected(PATTERN_HINT)
        return None
    kind = _kind(node.child("kind")) if "kind" in node.value else None
    allowed: tuple[str, ...] = ANY_PATTERN_KEY
    required: tuple[str, ...] = ()
    misplaced: list[str] = []
    if kind is not None:
        allowed, required = PATTERN_KEYS[kind], PATTERN_REQUIRED[kind]
        misplaced = [key for key in node.value if key in ANY_PATTERN_KEY and key not in allowed]
    for key in misplaced:
        kinds = " and ".join(k.value for k in PatternKind if key in PATTERN_KEYS[k])
        node.child(key).error(
            f"found {key} on a {kind} pattern; expected it only on {kinds} patterns", at_key=True
        )
    parts = fields(node, ["name", "kind", "points", *required], [*allowed, *misplaced])
    if parts is None:
        return None
    name = rule_name(parts, named)
    value = points(parts["points"]) if "points" in parts else None
    count = integer(parts["count"], 2, "a count of at least 2") if "count" in parts else 0
    within = duration(parts["within"]) if "within" in parts else None
    quiet_for = duration(parts["quiet_for"]) if "quiet_for" in parts else None
    match = event_filter(parts, steps) if "event" in parts else None
    if "event" not in parts and any(key in parts for key in FILTER_KEYS[1:]):
        node.error("missing key 'event' (url, step and data narrow an event)", at_key=True)
        return None
    if kind is None or name is None or value is None or count is None or misplaced:
        return None
    broken = [("within", within), ("quiet_for", quiet_for), ("event", match)]
    if any(key in parts and got is None for key, got in broken):
        return None
    return Pattern(name, kind, value, count, within, quiet_for, match)


def _kind(node: Node) -> PatternKind | None:
    options = [kind.value for kind in PatternKind]
    found = choice(node, options, "a pattern kind: " + ", ".join(options))
    return PatternKind(found) if found is not None else None


def account(node: Node) -> AccountSignal | None:
    """``account: {min_contacts, window, points}``: several contacts of one company."""
    parts = fields(node, ["min_contacts", "window", "points"], what=ACCOUNT_HINT)
    if parts is None:
        return None
    contacts = None
    if "min_contacts" in parts:
        contacts = integer(parts["min_contacts"], 2, "a number of contacts, at least 2")
    window = duration(parts["window"]) if "window" in parts else None
    value = points(parts["points"]) if "points" in parts else None
    if contacts is None or window is None or value is None:
        return None
    return AccountSignal(contacts, window, value)


def hand_raisers(
    node: Node, stages: Stages | None, steps: list[StepRef]
) -> tuple[HandRaiser, ...] | None:
    """A list of events that qualify on their own, each naming the stage it leads to."""

    def read(item: Node, named: Named, steps: list[StepRef]) -> HandRaiser | None:
        return _hand_raiser(item, stages, named, steps)

    named: Named = []
    raisers = rule_list(node, "hand-raisers", read, named, steps)
    if not unique_names(named, "hand_raisers") or raisers is None:
        return None
    return tuple(raisers)


def _hand_raiser(
    node: Node, stages: Stages | None, named: Named, steps: list[StepRef]
) -> HandRaiser | None:
    parts = fields(node, ["name", "event", "stage"], FILTER_KEYS[1:], what=RAISER_HINT)
    if parts is None:
        return None
    name = rule_name(parts, named)
    match = event_filter(parts, steps)
    stage = None
    if "stage" in parts and stages is not None:
        above = stages.ladder[stages.ladder.index(stages.initial) + 1 :]
        what = f"a ladder stage above {stages.initial}: " + ", ".join(above)
        stage = choice(parts["stage"], above, what)
    if name is None or match is None or stage is None:
        return None
    return HandRaiser(name, match, stage)
