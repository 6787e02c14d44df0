"""``scoring.fit``: who the lead is. Rules give points when a condition on lead and account
attributes holds; the sum gives a grade by thresholds, best first."""

from __future__ import annotations

from nurture.config.conditions import condition
from nurture.config.nodes import Node, fields
from nurture.config.refs import Refs, StepRef
from nurture.config.scoring_events import Named, points, rule_list, rule_name, unique_names
from nurture.core.conditions import Condition
from nurture.core.ladder_expr import KEYWORDS, NAMES, is_word
from nurture.core.scoring_model import FitRule, Grades

REST = "rest"  # ``{ideal: 60, good: 30, poor: rest}``: the grade below every threshold
GRADES_HINT = "grades best first with the fit points each needs, such as {A: 60, B: 40, C: 20}"
FIT_HINT = "a fit rule such as {name: senior-title, when: {attribute: title, ...}, points: 25}"


def fit(node: Node) -> tuple[tuple[FitRule, ...], Grades] | None:
    """``fit: {grades, rules}``; grades default to A 60, B 40, C 20 and D below."""
    parts = fields(node, [], ["grades", "rules"], what="a mapping with grades and rules")
    if parts is None:
        return None
    graded = grades(parts["grades"]) if "grades" in parts else Grades()
    named: Named = []
    rules = rule_list(parts.get("rules"), "fit rules", _fit_rule, named, [])
    if not unique_names(named, "fit.rules") or graded is None or rules is None:
        return None
    return tuple(rules), graded


def grades(node: Node) -> Grades | None:
    """``{A: 60, B: 40, C: 20}`` (below the last letter: the next one, D), or with words
    ``{ideal: 60, good: 30, poor: rest}`` (the last grade, ``rest``, is everyone below)."""
    if not isinstance(node.value, dict) or not node.value:
        node.expected(GRADES_HINT)
        return None
    before = len(node.problems)
    names = list(node.value)
    thresholds: list[tuple[str, int]] = []
    lowest: str | None = None
    for position, name in enumerate(names, 1):
        child = node.child(name)
        if not is_word(name) or name.casefold() in KEYWORDS or name in NAMES:
            child.error(
                f"found grade name {name!r}; expected a letter or a word such as A or ideal "
                "(letters, digits, - and _, and not a name ladder rules use)",
                at_key=True,
            )
        elif child.value == REST and position == len(names) > 1:
            lowest = name
        elif (threshold := _threshold(child)) is not None:
            if thresholds and threshold >= thresholds[-1][1]:
                better, needs = thresholds[-1]
                child.expected(f"fewer fit points than grade {better} ({needs}): best grade first")
            thresholds.append((name, threshold))
    if len(node.problems) != before:
        return None
    if lowest is None:
        lowest = _next_letter(thresholds[-1][0])
        if lowest is None or lowest in node.value:
            node.error(
                "found no lowest grade; expected the grade below the last threshold written "
                f"last as NAME: {REST}, such as {{ideal: 60, good: 30, poor: {REST}}}"
            )
            return None
    return Grades(tuple(thresholds), lowest)


def _threshold(node: Node) -> int | None:
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value == REST:
        node.expected(f"a whole number of fit points (only the last grade may be {REST})")
    else:
        node.expected(f"a whole number of fit points such as 40 (or {REST} for the last grade)")
    return None


def _next_letter(name: str) -> str | None:
    """The grade below a single capital letter (``C`` -> ``D``); None for words and Z."""
    if len(name) == 1 and "A" <= name < "Z":
        return chr(ord(name) + 1)
    return None


def _fit_rule(node: Node, named: Named, _steps: list[StepRef]) -> FitRule | None:
    parts = fields(node, ["name", "when", "points"], what=FIT_HINT)
    if parts is None:
        return None
    name = rule_name(parts, named)
    when = _fit_condition(parts["when"]) if "when" in parts else None
    value = points(parts["points"], whole=True) if "points" in parts else None
    if name is None or when is None or value is None:
        return None
    return FitRule(name, when, int(value))


def _fit_condition(node: Node) -> Condition | None:
    """A ``when:`` on lead and account attributes; behaviour is scored by engagement."""
    engaged = _engaged_nodes(node)
    for child in engaged:
        child.error(
            "found an engagement condition; expected conditions on lead and account "
            "attributes (score behaviour under engagement.rules)",
            at_key=True,
        )
    return condition(node, Refs()) if not engaged else None


def _engaged_nodes(node: Node) -> list[Node]:
    if not isinstance(node.value, dict):
        return []
    if "engaged" in node.value:
        return [node.child("engaged")]
    found: list[Node] = []
    for head in ("all", "any"):
        for item in node.child(head).items():
            found += _engaged_nodes(item)
    if "not" in node.value:
        found += _engaged_nodes(node.child("not"))
    return found
