"""What is missing to make a ladder expression true, in a marketer's words.

The answer is a list of alternatives (any one is enough), each a list of needs (all are
needed): ``fit in [A, B] and engagement >= 50`` with fit C and engagement 38 gives
``[["fit grade A or B (now C)", "12 more engagement points"]]``; an ``or`` gives one
alternative per branch, so explain can print "needs 12 more engagement points, or a
hand-raiser". An expression that already holds gives ``[]``.

Negations are pushed down to the comparisons first (``not engagement >= 10`` is
``engagement < 10``); two lower bounds on one name in one alternative keep the stronger.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from nurture.core.ladder_expr import And, Compare, Expr, Name, Not, Or, compare

_NEGATED = {"==": "!=", "!=": "==", ">=": "<", "<": ">=", "<=": ">", ">": "<=", "in": "not in"}
_LABELS = {"engagement": "engagement point", "fit_points": "fit point"}
_STEP = {"engagement": 0.1, "fit_points": 1.0}  # resolution of each value, for > and <
MAX_ALTERNATIVES = 6

Leaf = Compare
Alternative = tuple[Leaf, ...]


def alternatives(expr: Expr, values: Mapping[str, object], hand_raiser: str) -> list[list[str]]:
    found = _alternatives(_push_not(expr, negate=False), values)
    if any(not alt for alt in found):
        return []
    return [[_phrase(leaf, values, hand_raiser) for leaf in alt] for alt in found]


def _push_not(expr: Expr, *, negate: bool) -> Expr:
    """The same expression with ``not`` only inside comparisons, and bare names compared."""
    match expr:
        case Name(name=name):
            return Compare(name, "==", not negate)
        case Compare(name=name, op=op, value=value):
            return Compare(name, _NEGATED[op], value) if negate else expr
        case Not(part=part):
            return _push_not(part, negate=not negate)
        case And(parts=parts) | Or(parts=parts):
            pushed = tuple(_push_not(p, negate=negate) for p in parts)
            conjunction = isinstance(expr, And) != negate
            return And(pushed) if conjunction else Or(pushed)
    raise TypeError(f"not a ladder expression: {expr!r}")


def _holds(leaf: Leaf, values: Mapping[str, object]) -> bool:
    if leaf.op == "not in":
        return not compare(Compare(leaf.name, "in", leaf.value), values.get(leaf.name))
    return compare(leaf, values.get(leaf.name))


def _alternatives(expr: Expr, values: Mapping[str, object]) -> list[Alternative]:
    """Alternatives of unmet leaves; an empty alternative means the expression holds."""
    match expr:
        case Compare():
            return [()] if _holds(expr, values) else [(expr,)]
        case Or(parts=parts):
            found = [alt for p in parts for alt in _alternatives(p, values)]
            return _prune(found)
        case And(parts=parts):
            each = [_alternatives(p, values) for p in parts]
            return _prune([_merge(combo) for combo in itertools.product(*each)])
    raise TypeError(f"not a pushed-down ladder expression: {expr!r}")


def _merge(combo: tuple[Alternative, ...]) -> Alternative:
    """One alternative from one pick per ``and`` part: duplicates dropped, and of two
    bounds the same way on one name only the stronger kept."""
    merged: list[Leaf] = []
    for leaf in itertools.chain.from_iterable(combo):
        if leaf in merged:
            continue
        rival = next((m for m in merged if _same_bound(m, leaf)), None)
        if rival is None:
            merged.append(leaf)
        elif _stronger(leaf, rival):
            merged[merged.index(rival)] = leaf
    return tuple(merged)


def _same_bound(a: Leaf, b: Leaf) -> bool:
    lower, upper = (">=", ">"), ("<=", "<")
    return a.name == b.name and (
        (a.op in lower and b.op in lower) or (a.op in upper and b.op in upper)
    )


def _stronger(new: Leaf, old: Leaf) -> bool:
    if new.op in (">=", ">"):
        return _bound(new) > _bound(old)
    return _bound(new) < _bound(old)


def _bound(leaf: Leaf) -> float:
    """The value a strict bound really asks for: ``> 50`` is ``>= 50.1`` for engagement."""
    step = _STEP.get(leaf.name, 0.0)
    value = float(leaf.value)  # type: ignore[arg-type]
    return value + step if leaf.op == ">" else value - step if leaf.op == "<" else value


def _prune(found: list[Alternative]) -> list[Alternative]:
    """Drop repeats and alternatives that ask for more than another one."""
    kept: list[Alternative] = []
    for alt in sorted(found, key=len):
        if not any(set(k) <= set(alt) for k in kept):
            kept.append(alt)
    kept.sort(key=found.index)
    return kept[:MAX_ALTERNATIVES]


def _phrase(leaf: Leaf, values: Mapping[str, object], hand_raiser: str) -> str:
    actual = values.get(leaf.name)
    if leaf.name == "hand_raiser":
        return hand_raiser if leaf.value is not False else "no hand-raiser in this stage"
    if leaf.name == "fit":
        return _fit_phrase(leaf, actual)
    number = float(actual) if isinstance(actual, int | float) else 0.0
    target = float(leaf.value)  # type: ignore[arg-type]
    step = _STEP.get(leaf.name, 1.0)
    label = _LABELS.get(leaf.name, leaf.name)
    if leaf.op in (">=", ">"):
        return _amount(target - number + (step if leaf.op == ">" else 0), "more", label)
    if leaf.op in ("<=", "<"):
        return _amount(number - target + (step if leaf.op == "<" else 0), "fewer", label)
    if leaf.op == "==":
        return f"{leaf.name} of exactly {_number(target)} (now {_number(number)})"
    return f"{leaf.name} other than {_number(target)}"


def _fit_phrase(leaf: Leaf, actual: object) -> str:
    options = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    grades = " or ".join(str(o) for o in options)
    if len(options) > 2:
        grades = ", ".join(str(o) for o in options[:-1]) + f" or {options[-1]}"
    now = f" (now {actual})" if actual is not None else ""
    if leaf.op in ("!=", "not in"):
        return f"fit grade other than {grades}{now}"
    return f"fit grade {grades}{now}"


def _amount(amount: float, direction: str, label: str) -> str:
    amount = round(amount, 1)
    plural = "" if amount == 1 else "s"
    return f"{_number(amount)} {direction} {label}{plural}"


def _number(value: float) -> str:
    value = round(value, 1)
    return str(int(value)) if value.is_integer() else f"{value:.1f}"
