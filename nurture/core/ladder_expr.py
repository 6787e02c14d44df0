"""Ladder expressions (``fit in [A, B] and engagement >= 50``) as a small typed tree.

Names a rule may use: ``fit`` (grade letter), ``fit_points``, ``engagement`` and
``hand_raiser`` (true when a hand-raiser event qualified since the lead entered its stage).

``parse`` (in ``ladder_expr_parse``) turns text into the tree with marketer-readable errors,
``evaluate`` decides it against a score card's values, ``render`` prints it canonically (so
``parse(render(e)) == e``) and ``shortfall`` (in ``ladder_expr_shortfall``) says what is
missing to make it true, for ``nurture explain``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

NAMES = ("fit", "fit_points", "engagement", "hand_raiser")
NUMERIC_NAMES = ("fit_points", "engagement")
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
KEYWORDS = ("and", "or", "not", "in", "true", "false")


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Compare:
    """``name <op> value``; op one of ``== != >= <= > <``, or ``in`` with a tuple value."""

    name: str
    op: str
    value: object


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


Expr = Union[Name, Compare, And, Or, Not]  # noqa: UP007 (recursive alias)


class ExpressionError(ValueError):
    """A ladder expression that cannot be parsed. ``column`` is the 1-based offset in the
    text of what was wrong; ``str(error)`` is the message alone, so config errors can put
    the column in their own ``file:line:col`` prefix."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def parse(text: str, *, grades: Collection[str] | None = None) -> Expr:
    """Parse ``text``; with ``grades`` (the model's grade names) unknown grade words are
    refused too, and grade words are spelt as the model spells them."""
    from nurture.core.ladder_expr_parse import Parser

    return Parser(text, grades).parse()


def shortfall(
    expr: Expr, values: Mapping[str, object], *, hand_raiser: str = "a hand-raiser"
) -> list[list[str]]:
    """What is missing to make ``expr`` true: ``[]`` when it already holds, else the
    alternatives (any one is enough), each a list of needs (all of them are needed).
    ``hand_raiser`` is the phrase for a missing hand-raiser (``"a demo request"``)."""
    from nurture.core.ladder_expr_shortfall import alternatives

    return alternatives(expr, values, hand_raiser)


def evaluate(expr: Expr, values: Mapping[str, object]) -> bool:
    """True when ``expr`` holds for ``values`` (``ScoreCard.values()``). A missing or
    mistyped value makes a comparison false (and its ``!=`` true)."""
    match expr:
        case Name(name=name):
            return bool(values.get(name))
        case Compare():
            return compare(expr, values.get(expr.name))
        case And(parts=parts):
            return all(evaluate(p, values) for p in parts)
        case Or(parts=parts):
            return any(evaluate(p, values) for p in parts)
        case Not(part=part):
            return not evaluate(part, values)
    raise TypeError(f"not a ladder expression: {expr!r}")


def compare(cmp: Compare, actual: object) -> bool:
    """One comparison against the actual value; text compares case-insensitively."""
    expected = cmp.value
    if cmp.op == "in":
        options = expected if isinstance(expected, tuple) else (expected,)
        return any(_equal(actual, option) for option in options)
    if cmp.op == "==":
        return _equal(actual, expected)
    if cmp.op == "!=":
        return not _equal(actual, expected)
    if not _is_number(actual) or not _is_number(expected):
        return False
    a, b = float(actual), float(expected)  # type: ignore[arg-type]
    if cmp.op == ">=":
        return a >= b
    if cmp.op == "<=":
        return a <= b
    if cmp.op == ">":
        return a > b
    if cmp.op == "<":
        return a < b
    raise TypeError(f"unknown operator {cmp.op!r}")


def _equal(actual: object, expected: object) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if _is_number(actual) and _is_number(expected):
        return float(actual) == float(expected)  # type: ignore[arg-type]
    return False


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def render(expr: Expr) -> str:
    """Canonical text: single spaces, ``in [A, B]``, parentheses only where needed."""
    match expr:
        case Name(name=name):
            return name
        case Compare(name=name, op="in", value=value):
            options = value if isinstance(value, tuple) else (value,)
            return f"{name} in [{', '.join(render_literal(v) for v in options)}]"
        case Compare(name=name, op=op, value=value):
            return f"{name} {op} {render_literal(value)}"
        case And(parts=parts):
            return " and ".join(_wrap(p, (Or,)) for p in parts)
        case Or(parts=parts):
            return " or ".join(render(p) for p in parts)
        case Not(part=part):
            return f"not {_wrap(part, (And, Or))}"
    raise TypeError(f"not a ladder expression: {expr!r}")


def _wrap(expr: Expr, kinds: tuple[type, ...]) -> str:
    text = render(expr)
    return f"({text})" if isinstance(expr, kinds) else text


def render_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    if isinstance(value, int | float):
        return format(Decimal(repr(value)), "f")  # never 1e-05: the parser reads no exponents
    text = str(value)
    if is_word(text) and text.casefold() not in KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_word(text: str) -> bool:
    """A bare literal or name: letters, digits, ``_`` and ``-``, not starting with a digit
    or ``-`` (``A``, ``tier-1``)."""
    return (
        bool(text)
        and (text[0].isalpha() or text[0] == "_")
        and all(c.isalnum() or c in "_-" for c in text)
    )


def names_in(expr: Expr) -> Sequence[str]:
    """The names an expression reads, in order of first use."""
    seen: dict[str, None] = {}
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop(0)
        match node:
            case Name(name=name) | Compare(name=name):
                seen.setdefault(name)
            case And(parts=parts) | Or(parts=parts):
                stack[:0] = parts
            case Not(part=part):
                stack.insert(0, part)
    return tuple(seen)
