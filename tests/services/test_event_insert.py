"""Storing event rows on both backends: every column as given, duplicates skipped, and
on PostgreSQL one statement text whatever the batch (compiled once per process, the
webhook path's ``jsonb_to_recordset`` insert), not a VALUES list compiled per request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from nurture.services import site_event_input
from nurture.services.event_insert import insert_events
from nurture.services.site_event_input import parse_events
from nurture.store.models import Event

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def event_row(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "lead_id": None,
        "message_id": None,
        "type": "visited",
        "source": "website",
        "source_event_id": key,
        "occurred_at": T0 - timedelta(minutes=5),
        "received_at": T0,
        "url": "https://lumen.example/pricing",
        "user_agent": "Mozilla/5.0",
        "ip": "203.0.113.9",
        "machine": False,
        "machine_reason": None,
        "bounce": None,
        "data": {"event": "page_view", "properties": {"plan": "pro", "seats": 12}},
        "visitor_id": "vid-0123456789abcdef",
        **fields,
    }


def store(database, rows: list[dict[str, Any]]) -> list[str]:
    with database.unit_of_work() as uow:
        return [row["source_event_id"] for row in insert_events(uow.session, rows)]


def stored(database) -> list[Event]:
    with database.unit_of_work(readonly=True) as uow:
        return list(uow.session.scalars(select(Event).order_by(Event.source_event_id)))


class TestInsertEvents:
    def test_every_column_is_stored_as_given(self, database):
        machine = event_row("b", machine=True, machine_reason="crawler user agent (bot/)")
        assert store(database, [event_row("a"), machine]) == ["a", "b"]
        first, second = stored(database)
        assert (first.type, first.source, first.url, first.ip) == (
            "visited",
            "website",
            "https://lumen.example/pricing",
            "203.0.113.9",
        )
        assert (first.occurred_at, first.received_at) == (T0 - timedelta(minutes=5), T0)
        assert first.data == {"event": "page_view", "properties": {"plan": "pro", "seats": 12}}
        assert (first.visitor_id, first.machine, first.lead_id) == (
            "vid-0123456789abcdef",
            False,
            None,
        )
        assert (second.machine, second.machine_reason) == (True, "crawler user agent (bot/)")

    def test_events_already_stored_are_skipped_and_not_returned(self, database):
        store(database, [event_row("a")])
        assert store(database, [event_row("b"), event_row("a")]) == ["b"]
        assert [e.source_event_id for e in stored(database)] == ["a", "b"]

    @pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
    def test_postgres_runs_one_statement_text_whatever_the_batch(self, database):
        texts: list[str] = []

        def seen(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("INSERT INTO events"):
                texts.append(statement)

        event.listen(database.engine, "before_cursor_execute", seen)
        try:
            store(database, [event_row("one")])
            store(database, [event_row(f"many-{n}") for n in range(50)])
        finally:
            event.remove(database.engine, "before_cursor_execute", seen)
        assert len(texts) == 2
        assert texts[0] == texts[1]
        assert "jsonb_to_recordset" in texts[0]


class TestEmailCheck:
    def test_an_email_seen_before_is_not_checked_again(self, monkeypatch):
        calls: list[str] = []
        real = site_event_input.normalise_email

        def counting(raw: str) -> str:
            calls.append(raw)
            return real(raw)

        monkeypatch.setattr(site_event_input, "normalise_email", counting)
        body = [{"type": "page_view", "email": "Repeat.Visitor@Cache-Test.example"}] * 3
        events = parse_events(body, T0, max_items=10, public=False)
        assert {e.email for e in events} == {"repeat.visitor@cache-test.example"}
        assert len(calls) == 1
