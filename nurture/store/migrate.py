"""Schema migrations in code: what `nurture migrate` and the tests call.

Alembic is configured here rather than from an alembic.ini at the repository root, so the
migrations work wherever the package is installed. The scripts live next to this module in
``migrations/`` (shipped as package data); ``migrations/env.py`` explains how they run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from nurture.store.db import READONLY, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url``; for alembic's ``command`` functions."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # Passed as an attribute, not as sqlalchemy.url: ini interpolation would mangle a '%'.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; a no-op when it is already there."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take the schema down to ``revision`` ("base" drops everything). Loses data."""
    command.downgrade(alembic_config(database_url), revision)


@cache
def head_revision() -> str:
    """The revision the code expects (the newest migration)."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(database_url: str) -> str | None:
    """The database's revision; None for an empty database (or a missing SQLite file,
    which is not created)."""
    url = make_url(database_url)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).exists():
        return None
    engine = make_engine(database_url)
    try:
        with engine.execution_options(**{READONLY: True}).connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
