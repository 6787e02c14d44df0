"""Statements built once per dialect, then run with bound values.

Building a SELECT with joins and subqueries costs SQLAlchemy about a millisecond of CPU,
more than PostgreSQL takes to run it for one lead, and a hand-raiser's job runs a dozen of
them. The hot ones are built once per (dialect, shape) by ``functools.cache``d builders
that use ``ids_in`` for their id lists; callers pass the values as parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam, cast, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def ids_in(
    dialect: str, column: InstrumentedAttribute[Any], name: str, element: Any = None
) -> ColumnElement[bool]:
    """``column IN :name``: on PostgreSQL ``= ANY(:name)`` with the list as one array
    parameter, elsewhere an expanding IN (one placeholder per value)."""
    if dialect != "postgresql":
        return column.in_(bindparam(name, expanding=True))
    kind = ARRAY(element if element is not None else BigInteger())
    return column == any_(cast(bindparam(name, type_=kind), kind))


@contextmanager
def planned_for_values(session: Session) -> Iterator[None]:
    """Within: PostgreSQL plans the statements for their values. psycopg prepares a
    statement once it has run five times, and PostgreSQL may then keep a generic plan; for
    the account signal's ``id = ANY($1)`` joins that plan scanned whole tables: a core of
    PostgreSQL at 1,000 events/s and 11 s of speed to lead at the median
    (bench/handoff_latency.py; planned for their values they take under a millisecond).
    Only around those queries: every statement planned anew cost the bulk path a quarter."""
    if dialect_of(session) != "postgresql":
        yield
        return
    session.execute(_CUSTOM_PLANS)
    try:
        yield
    finally:
        session.execute(_AUTO_PLANS)


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
_AUTO_PLANS = text("SET LOCAL plan_cache_mode TO DEFAULT")
