"""``scoring.ladder``, ``scoring.fall_back`` and ``scoring.promote_from``: which stage a score
earns. Expressions are parsed by ``nurture.core.ladder_expr``; a mistake in one is reported at
its own column when the expression is written on one line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nurture.config.nodes import Node, choice, fields, text, text_list
from nurture.config.problems import ConfigProblem, did_you_mean
from nurture.core.ladder_expr import Expr, ExpressionError, parse
from nurture.core.scoring_model import FallBack, Grades, LadderRule

if TYPE_CHECKING:
    from nurture.config.pipeline import Stages

NEVER_FALL = ("mql", "sql", "customer")
NEVER_FALL_REASON = "MQL and SQL never fall back by score; sales feedback moves them"
EXPRESSION_HINT = 'an expression such as "engagement >= 20" or "fit in [A, B] and engagement >= 50"'
LADDER_HINT = 'a mapping of stage -> expression, such as {warm: "engagement >= 20"}'
FALL_BACK_HINT = 'a mapping of stage -> {to, when}, such as {warm: {to: cold, when: "..."}}'


def ladder(
    node: Node, stages: Stages, grades: Grades | None, lines: Sequence[str]
) -> tuple[LadderRule, ...] | None:
    """One rule per stage above the initial one, written in ladder order."""
    if not isinstance(node.value, dict):
        node.expected(LADDER_HINT)
        return None
    above = _above_initial(stages)
    rules: list[LadderRule] = []
    ok, previous = True, -1
    for stage in node.value:
        child = node.child(stage)
        if not _ladder_stage(child, stage, stages, above):
            ok = False
            continue
        place = stages.ladder.index(stage)
        if place < previous:
            child.error(
                f"found {stage} after {stages.ladder[previous]}; expected the stages in "
                "ladder order: " + ", ".join(s for s in above if s in node.value),
                at_key=True,
            )
            ok = False
        previous = max(previous, place)
        source = text(child, EXPRESSION_HINT)
        parsed = expression(child, source, grades, lines) if source is not None else None
        if parsed is None or source is None:
            ok = False
        else:
            rules.append(LadderRule(stage, parsed, source))
    return tuple(rules) if ok else None


def fall_back(
    node: Node, stages: Stages, grades: Grades | None, lines: Sequence[str]
) -> tuple[FallBack, ...] | None:
    """Hysteresis: ``{warm: {to: cold, when: "engagement < 10"}}``, never from MQL up."""
    if not isinstance(node.value, dict):
        node.expected(FALL_BACK_HINT)
        return None
    never = next((stages.ladder.index(s) for s in stages.ladder if s in NEVER_FALL), None)
    out: list[FallBack] = []
    ok = True
    for stage in node.value:
        child = node.child(stage)
        if not _ladder_stage(child, stage, stages, stages.ladder):
            ok = False
            continue
        place = stages.ladder.index(stage)
        if never is not None and place >= never:
            first = stages.ladder[never]
            message = f"found a fall-back from {stage}; expected none from {first} up: "
            child.error(message + NEVER_FALL_REASON, at_key=True)
            ok = False
            continue
        rule = _fall_back(child, stage, stages.ladder[:place], grades, lines)
        ok = ok and rule is not None
        if rule is not None:
            out.append(rule)
    out.sort(key=lambda rule: stages.ladder.index(rule.stage))
    return tuple(out) if ok else None


def _fall_back(
    node: Node, stage: str, below: tuple[str, ...], grades: Grades | None, lines: Sequence[str]
) -> FallBack | None:
    parts = fields(node, ["to", "when"], what='{to: STAGE, when: "engagement < 10"}')
    if parts is None:
        return None
    to = None
    if "to" in parts:
        if below:
            what = f"a stage below {stage} on the ladder: " + ", ".join(below)
            to = choice(parts["to"], below, what)
        else:
            parts["to"].expected(f"a stage below {stage}, but {stage} is the lowest (remove it)")
    source = text(parts["when"], EXPRESSION_HINT) if "when" in parts else None
    parsed = expression(parts["when"], source, grades, lines) if source is not None else None
    if to is None or parsed is None or source is None:
        return None
    return FallBack(stage, to, parsed, source)


def promote_from(node: Node, stages: Stages) -> frozenset[str] | None:
    """Side stages the ladder may lift a lead out of (default: recycled)."""
    listed = text_list(node, "side stage", allow_empty=True)
    if listed is None:
        return None
    what = "a side stage: " + (", ".join(stages.side) or "there is none")
    found = [choice(item, stages.side, what) for _, item in listed]
    return frozenset(s for s in found if s is not None) if None not in found else None


def _above_initial(stages: Stages) -> tuple[str, ...]:
    return stages.ladder[stages.ladder.index(stages.initial) + 1 :]


def _ladder_stage(node: Node, stage: str, stages: Stages, allowed: tuple[str, ...]) -> bool:
    """A key naming a stage the section may use; else a problem at the key."""
    if stage in allowed:
        return True
    if stage == stages.initial and stage not in allowed:
        message = f"found {stage}, where every lead starts; expected a stage above it: "
    elif stage in stages.side:
        message = f"found side stage {stage}; expected a ladder stage: "
    else:
        message = f"found stage {stage!r}; expected a ladder stage: "
    node.error(message + ", ".join(allowed), did_you_mean(stage, allowed), at_key=True)
    return False


def expression(node: Node, source: str, grades: Grades | None, lines: Sequence[str]) -> Expr | None:
    """Parse a ladder expression; an error points at its column in the file when it can."""
    try:
        return parse(source, grades=grades.names if grades is not None else None)
    except ExpressionError as exc:
        line, column = _position(node, source, exc.column, lines)
        node.problems.append(ConfigProblem(node.doc.file, line, column, node.where, exc.message))
        return None


def _position(node: Node, source: str, column: int, lines: Sequence[str]) -> tuple[int, int]:
    """Line and column of ``source``'s 1-based ``column`` when the scalar is written on one
    line as is (plain, or quoted without escapes); else where the scalar starts."""
    mark = node.doc.value_mark(node.path)
    written = lines[mark.line - 1] if 0 < mark.line <= len(lines) else ""
    start = mark.column - 1
    quoted = 1 if written[start : start + 1] in ("'", '"') else 0
    if written[start + quoted : start + quoted + len(source)] == source:
        return mark.line, mark.column + quoted + column - 1
    return mark.line, mark.column
