"""`nurture migrate`: creates the database, then reports it is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nurture.cli import app
from nurture.store.migrate import current_revision, head_revision

runner = CliRunner()


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "nested" / "state" / "nurture.db"
    monkeypatch.setenv("NURTURE_DATABASE_URL", f"sqlite:///{path}")
    return path


class TestMigrate:
    def test_creates_the_database_and_its_folder(self, db_path: Path) -> None:
        result = runner.invoke(app, ["migrate"])

        assert result.exit_code == 0, result.output
        assert db_path.exists()
        assert current_revision(f"sqlite:///{db_path}") == head_revision()
        assert f"migrated empty -> {head_revision()}" in result.output

    def test_second_run_reports_already_up_to_date(self, db_path: Path) -> None:
        runner.invoke(app, ["migrate"])

        result = runner.invoke(app, ["migrate"])

        assert result.exit_code == 0, result.output
        assert f"already up to date (revision {head_revision()})" in result.output

    def test_unreachable_database_is_one_clear_line(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        socket_dir = tmp_path / "no-server-here"
        socket_dir.mkdir()
        url = f"postgresql+psycopg://nurture:secret@/nurture?host={socket_dir}"
        monkeypatch.setenv("NURTURE_DATABASE_URL", url)

        result = runner.invoke(app, ["migrate"])

        assert result.exit_code == 2
        assert "cannot migrate" in result.output
        assert "secret" not in result.output
        assert "Traceback" not in result.output
