"""Ladder expressions (``fit in [A, B] and engagement >= 50``) as a small typed tree.

Names a rule may use: ``fit`` (grade letter), ``fit_points``, ``engagement`` and
``hand_raiser`` (true when a hand-raiser event qualified since the lead entered its stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

NAMES = ("fit", "fit_points", "engagement", "hand_raiser")


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
