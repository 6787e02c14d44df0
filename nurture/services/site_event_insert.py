"""Storing website and product event rows: one multi-row insert that skips events already
stored (``(source, source_event_id)`` is unique) and says which rows were new.

On PostgreSQL the rows go as one JSON document the server expands
(``jsonb_to_recordset``), as the webhook path stores provider events
(``engagement._insert``): one statement text whatever the batch, compiled and planned once.
SQLAlchemy's multi-row VALUES was compiled per request, most of the API's CPU per event
(docs/operations-latency.md). SQLite keeps the portable ``INSERT … ON CONFLICT``.
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


def insert_events(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert, ignoring events already stored; the rows that are new. Sorted by key, so two
    overlapping batches take the unique index's locks in the same order."""
    rows.sort(key=lambda r: r["source_event_id"])
    by_key = {r["source_event_id"]: r for r in rows}
    postgres = session.get_bind().dialect.name == "postgresql"
    new: list[dict[str, Any]] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        if postgres:
            keys = session.scalars(_RECORDSET_INSERT, {"rows": _document(chunk)})
        else:
            keys = session.scalars(
                insert_ignoring_conflicts(session, Event, "source", "source_event_id")
                .values(chunk)
                .returning(Event.source_event_id)
            )
        new.extend(by_key[key] for key in keys)
    return new


#: The columns a site event row carries, with the type the JSON document's values become.
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
    " ON CONFLICT (source, source_event_id) DO NOTHING RETURNING source_event_id"
)


def _document(rows: list[dict[str, Any]]) -> str:
    """The rows as the JSON array ``_RECORDSET_INSERT`` expands (times in UTC, ISO)."""
    times = ("occurred_at", "received_at")
    records = [
        row | {name: row[name].astimezone(UTC).isoformat() for name in times} for row in rows
    ]
    return json.dumps(records, separators=(",", ":"))
