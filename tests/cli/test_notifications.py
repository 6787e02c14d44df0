"""`nurture notifications list` and `retry` against a real database, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from nurture.cli import app, context
from nurture.cli.app import console
from nurture.store.handoff_models import Notification
from tests.handoff.conftest import insert_notification

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("NURTURE_DATABASE_URL", db_url)
    context.settings.cache_clear()
    context.database.cache_clear()
    yield CliRunner()
    context.database().engine.dispose()
    context.settings.cache_clear()
    context.database.cache_clear()


def add(channel: str, status: str, last_error: str | None = None) -> int:
    with context.database().unit_of_work() as uow:
        return insert_notification(
            uow.session, channel, T0, status=status, last_error=last_error, attempts=1
        )


def status_of(notification_id: int) -> str:
    with context.database().unit_of_work(readonly=True) as uow:
        found = uow.session.get(Notification, notification_id)
        assert found is not None
        return found.status


def test_list_shows_every_notification_newest_first(cli):
    sent = add("email", "sent")
    dead = add("slack", "dead", "slack: NURTURE_SLACK_WEBHOOK_URL is not set")

    result = cli.invoke(app, ["notifications", "list", "--json"])

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == [dead, sent]
    assert rows[0] | {"created_at": None} == {
        "id": dead, "status": "dead", "channel": "slack", "kind": "handoff",
        "handoff_id": None, "lead_id": None, "lead": "jordan@northwind.example",
        "recipient": None, "attempts": 1, "next_attempt_at": None,
        "last_error": "slack: NURTURE_SLACK_WEBHOOK_URL is not set", "created_at": None,
        "sent_at": None,
    }  # fmt: skip


def test_list_dead_shows_only_dead_letters_with_their_error(cli, monkeypatch):
    monkeypatch.setattr(console, "_width", 200)  # the CLI's console, made at import
    add("email", "sent")
    dead = add("teams", "dead", "teams: POST example.com: 400 Bad payload")

    result = cli.invoke(app, ["notifications", "list", "--dead"])

    assert result.exit_code == 0, result.output
    assert (
        f"{dead}" in result.output and "teams: POST example.com: 400 Bad payload" in result.output
    )
    assert "email" not in result.output
    empty = cli.invoke(app, ["notifications", "list", "--dead", "--limit", "1"])
    assert "dead" in empty.output


def test_list_says_when_there_is_nothing(cli):
    result = cli.invoke(app, ["notifications", "list", "--dead"])

    assert (result.exit_code, result.output.strip()) == (0, "no dead letters")


def test_retry_puts_the_named_dead_letters_back(cli):
    first, second = add("slack", "dead", "x"), add("slack", "dead", "x")

    result = cli.invoke(app, ["notifications", "retry", str(first)])

    assert result.exit_code == 0, result.output
    assert "1 notification queued again" in result.output
    assert (status_of(first), status_of(second)) == ("pending", "dead")


def test_retry_all_dead(cli):
    ids = [add("slack", "dead", "x"), add("webhook", "dead", "y")]
    sent = add("email", "sent")

    result = cli.invoke(app, ["notifications", "retry", "--all-dead"])

    assert result.exit_code == 0, result.output
    assert "2 notifications queued again" in result.output
    assert [status_of(i) for i in [*ids, sent]] == ["pending", "pending", "sent"]


def test_retry_of_a_row_that_is_not_dead_says_so_and_exits_1(cli):
    sent = add("email", "sent")

    result = cli.invoke(app, ["notifications", "retry", str(sent), "999"])

    assert result.exit_code == 1
    assert f"left alone: {sent}, 999" in result.output
    assert status_of(sent) == "sent"


def test_retry_needs_ids_or_all_dead_but_not_both(cli):
    neither = cli.invoke(app, ["notifications", "retry"])
    both = cli.invoke(app, ["notifications", "retry", "1", "--all-dead"])

    assert neither.exit_code == both.exit_code == 2
    assert "give notification ids or --all-dead" in neither.output


def test_help_teaches_how_to_replay_dead_letters():
    result = CliRunner().invoke(app, ["notifications", "--help"], terminal_width=100)

    assert result.exit_code == 0
    assert "nurture notifications list --dead" in result.output
    assert "nurture notifications retry --all-dead" in result.output
