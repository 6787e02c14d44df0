"""CLI commands run in-process (Typer's CliRunner) against the `database` fixture's URL,
with the shipped funnel; the CLI's cached settings and database are reset around each."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nurture.cli import context

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("NURTURE_DATABASE_URL", db_url)
    monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(REPO))
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    context.settings.cache_clear()
    context.database.cache_clear()
    yield CliRunner()
    context.database().engine.dispose()
    context.settings.cache_clear()
    context.database.cache_clear()
