"""Branch conditions on lead attributes and on engagement with earlier steps.

Conditions are data (parsed from YAML by ``nurture.config``), evaluated here as pure
functions of a ``LeadFacts`` snapshot, so that branches can be simulated and backtested.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Union


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    NOT_IN = "not_in"
    EXISTS = "exists"
    CONTAINS = "contains"
    MATCHES = "matches"  # case-insensitive regular-expression search: "head|director|vp"


@dataclass(frozen=True)
class AttributeIs:
    """``lead.<attribute> <op> <value>``; attribute names lead fields or custom attributes."""

    attribute: str
    op: Op
    value: object = None


@dataclass(frozen=True)
class Engaged:
    """The lead did ``event`` (opened, clicked, ...) on the email sent by step ``step``;
    with no step, anywhere in this enrollment."""

    event: str
    step: str | None = None


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


Condition = Union[AttributeIs, Engaged, AllOf, AnyOf, Not]  # noqa: UP007 (recursive alias)


@dataclass(frozen=True)
class LeadFacts:
    """What a condition may look at: attributes and (event, step) pairs seen so far."""

    attributes: Mapping[str, object]
    engagement: frozenset[tuple[str, str | None]] = field(default_factory=frozenset)


def evaluate(condition: Condition, facts: LeadFacts) -> bool:
    match condition:
        case AttributeIs():
            return _compare(facts.attributes.get(condition.attribute), condition)
        case Engaged(event=event, step=step):
            if step is None:
                return any(seen_event == event for seen_event, _ in facts.engagement)
            return (event, step) in facts.engagement
        case AllOf(conditions=parts):
            return all(evaluate(c, facts) for c in parts)
        case AnyOf(conditions=parts):
            return any(evaluate(c, facts) for c in parts)
        case Not(condition=inner):
            return not evaluate(inner, facts)
    raise TypeError(f"not a condition: {condition!r}")


def _compare(actual: object, cond: AttributeIs) -> bool:
    expected = cond.value
    if cond.op is Op.EXISTS:
        present = actual not in (None, "")
        return present if expected in (None, True) else not present
    if actual is None:
        return cond.op in (Op.NE, Op.NOT_IN)
    if cond.op is Op.MATCHES:  # before case-folding, which would change escapes such as \D
        return re.search(str(expected), str(actual), re.IGNORECASE) is not None
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.casefold(), expected.casefold()
    if cond.op in (Op.IN, Op.NOT_IN):
        options = expected if isinstance(expected, list | tuple | set | frozenset) else [expected]
        folded = [o.casefold() if isinstance(o, str) else o for o in options]
        needle = actual.casefold() if isinstance(actual, str) else actual
        return (needle in folded) == (cond.op is Op.IN)
    if cond.op is Op.CONTAINS:
        return str(expected).casefold() in str(actual).casefold()
    compare = _COMPARISONS.get(cond.op)
    if compare is not None:
        try:
            return bool(compare(actual, expected))
        except TypeError:
            return False  # a number compared with text never matches
    raise TypeError(f"unknown operator {cond.op!r}")


_COMPARISONS: dict[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}
