"""planned_for_values: the account signal's queries are planned for their values.

A prepared statement's generic plan for the id-array joins (``id = ANY($1)``) scanned
whole tables; at 1,000 events/s that was a core of PostgreSQL and 11 s of speed to lead
(bench/handoff_latency.py). Only inside the block: the bulk path keeps its cached plans."""

from __future__ import annotations

from sqlalchemy import text

from nurture.services.statements import planned_for_values
from nurture.services.uow import Database
from nurture.store.db import make_engine


def mode(session) -> str:
    return str(session.execute(text("SHOW plan_cache_mode")).scalar_one())


def test_inside_the_block_statements_are_planned_for_their_values(postgres_url):
    database = Database(make_engine(postgres_url))
    try:
        with database.unit_of_work() as uow:
            before = mode(uow.session)
            with planned_for_values(uow.session):
                inside = mode(uow.session)
            after = mode(uow.session)
    finally:
        database.engine.dispose()
    assert (before, inside, after) == ("auto", "force_custom_plan", "auto")


def test_sqlite_has_no_plan_cache_and_runs_the_block_as_is(database):
    with database.unit_of_work() as uow, planned_for_values(uow.session):
        assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
