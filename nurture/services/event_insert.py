"""Storing event rows, from providers' webhooks and from the website alike: one multi-row
insert that skips events already stored (``(source, source_event_id)`` is unique) and says
which rows were new, with their ids.

On PostgreSQL the rows go as one JSON document the server expands (``jsonb_to_recordset``):
one statement text whatever the batch, compiled and planned once, and one parameter sent
as it is. SQLAlchemy's multi-row VALUES was compiled per request, most of the API's CPU
per event (docs/operations-latency.md), and array parameters are escaped element by
element in Python. SQLite keeps the portable ``INSERT … ON CONFLICT``.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from nurture.services.webhook_tokens import insert_ignoring_conflicts
from nurture.store.models import Event

INSERT_CHUNK = 1000  # 16 columns x 1,000 rows stays under SQLite's 32,766 variables

Key = tuple[str, str]


def insert_events(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert, ignoring events already stored; the rows that are new, each given its
    ``id``. Sorted by key, so two overlapping batches take the unique index's locks in the
    same order (no deadlock). A row may leave out ``visitor_id`` (provider events)."""
    rows.sort(key=lambda r: (r["source"], r["source_event_id"]))
    by_key: dict[Key, dict[str, Any]] = {(r["source"], r["source_event_id"]): r for r in rows}
    postgres = session.get_bind().dialect.name == "postgresql"
    new: list[dict[str, Any]] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        if postgres:
            returned = session.execute(_RECORDSET_INSERT, {"rows": _document(chunk)})
        else:
            returned = session.execute(
                insert_ignoring_conflicts(session, Event, "source", "source_event_id")
                .values(chunk)
                .returning(Event.id, Event.source, Event.source_event_id)
            )
        for event_id, source, source_event_id in returned:
            row = by_key[(source, source_event_id)]
            row["id"] = event_id
            new.append(row)
    return new


#: The columns an event row carries, with the type the JSON document's values become.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lead_id", "bigint"),
    ("message_id", "bigint"),
    ("type", "text"),
    ("source", "text"),
    ("source_event_id", "text"),
    ("occurred_at", "timestamptz"),
    ("received_at", "timestamptz"),
    ("url", "text"),
    ("user_agent", "text"),
    ("ip", "text"),
    ("machine", "boolean"),
    ("machine_reason", "text"),
    ("bounce", "text"),
    ("data", "jsonb"),
    ("visitor_id", "text"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)
_RECORDSET_INSERT = text(
    f"INSERT INTO events ({_NAMES}) SELECT {_NAMES} FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
    f" AS r({', '.join(f'{name} {kind}' for name, kind in _COLUMNS)})"
    " ON CONFLICT (source, source_event_id) DO NOTHING RETURNING id, source, source_event_id"
)
_TIMES = tuple(name for name, kind in _COLUMNS if kind == "timestamptz")


def _document(rows: list[dict[str, Any]]) -> str:
    """The rows as the JSON array ``_RECORDSET_INSERT`` expands (times in UTC, ISO; a key
    it does not name is ignored by the server, one it names but the row lacks is NULL)."""
    records = [
        row | {name: row[name].astimezone(UTC).isoformat() for name in _TIMES if row[name]}
        for row in rows
    ]
    return json.dumps(records, separators=(",", ":"))
