"""The engine's PostgreSQL sessions: every statement planned for its own values.

A prepared statement's generic plan for the id-array queries (``id = ANY($1)``) scanned
whole tables; at 1,000 events/s that was a core of PostgreSQL and 11 s of speed to lead
(bench/handoff_latency.py). An operator's own ``options`` in the URL are kept."""

from __future__ import annotations

from sqlalchemy import text

from nurture.store.db import make_engine


def setting(url: str, name: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text(f"SHOW {name}")).scalar_one())
    finally:
        engine.dispose()


def test_postgres_sessions_plan_each_execution_for_its_values(postgres_url):
    assert setting(postgres_url, "plan_cache_mode") == "force_custom_plan"


def test_options_given_in_the_url_are_kept(postgres_url):
    joiner = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{joiner}options=-c%20statement_timeout%3D4321"
    assert setting(url, "statement_timeout") == "4321ms"
    assert setting(url, "plan_cache_mode") == "force_custom_plan"
