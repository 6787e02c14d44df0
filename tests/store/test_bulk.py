"""Rows written in one statement (PostgreSQL: unnest of one array per column) read back
exactly as written, NULLs, bytes and aware times included, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.services.uow import Database
from nurture.store.bulk import insert_rows, update_rows
from nurture.store.ids import reserve_message_ids
from nurture.store.models import Enrollment, Lead, Message

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _enrollment(session: Session) -> Enrollment:
    lead = Lead(
        email="bulk@example.com",
        time_zone="UTC",
        stage="cold",
        attributes={},
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(lead)
    session.flush()
    enrollment = Enrollment(
        lead_id=lead.id,
        sequence_id="s",
        stage="cold",
        status="active",
        config_version="v",
        started_at=NOW,
        updated_at=NOW,
    )
    session.add(enrollment)
    session.flush()
    return enrollment


def _row(enrollment: Enrollment, message_id: int, n: int) -> dict[str, Any]:
    return {
        "id": message_id,
        "enrollment_id": enrollment.id,
        "lead_id": enrollment.lead_id,
        "sequence_id": "s",
        "step_id": f"step-{n}",
        "occurrence": 1,
        "config_version": "v",
        "to_address": "bulk@example.com",
        "subject": f"Ünïcode subject {n}",
        "status": "queued",
        "attempts": 0,
        "mime": None if n == 2 else bytes(range(256)) * (n + 1),
        "error": None,
        "created_at": NOW,
        "updated_at": NOW + timedelta(seconds=n),
    }


def _stored(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = session.execute(select(Message.__table__).where(Message.id.in_(ids)))
    return {row.id: dict(row._mapping) for row in rows}


def test_inserted_rows_read_back_as_written(database: Database) -> None:
    with database.unit_of_work() as uow:
        enrollment = _enrollment(uow.session)
        ids = reserve_message_ids(uow.session, 3)
        rows = [_row(enrollment, message_id, n) for n, message_id in enumerate(ids)]
        insert_rows(uow.session, Message, rows)

    with database.unit_of_work() as uow:
        stored = _stored(uow.session, ids)
    for row in rows:
        found = stored[row["id"]]
        assert {key: found[key] for key in row} == row


def test_updated_rows_change_only_their_own_columns(database: Database) -> None:
    with database.unit_of_work() as uow:
        enrollment = _enrollment(uow.session)
        ids = reserve_message_ids(uow.session, 3)
        rows = [_row(enrollment, message_id, n) for n, message_id in enumerate(ids)]
        insert_rows(uow.session, Message, rows)
    later = NOW + timedelta(hours=1)

    with database.unit_of_work() as uow:
        update_rows(
            uow.session,
            Message,
            [
                {"id": ids[0], "status": "sent", "mime": None, "sent_at": later, "error": None},
                {"id": ids[2], "status": "failed", "mime": b"x", "sent_at": None, "error": "no"},
            ],
        )

    with database.unit_of_work() as uow:
        stored = _stored(uow.session, ids)
    assert (stored[ids[0]]["status"], stored[ids[0]]["mime"], stored[ids[0]]["sent_at"]) == (
        "sent",
        None,
        later,
    )
    assert (stored[ids[2]]["status"], stored[ids[2]]["mime"], stored[ids[2]]["error"]) == (
        "failed",
        b"x",
        "no",
    )
    assert stored[ids[1]]["status"] == "queued" and stored[ids[1]]["mime"] == rows[1]["mime"]
    assert stored[ids[0]]["subject"] == rows[0]["subject"]  # columns not given are kept


def test_rows_with_different_keys_are_refused(database: Database) -> None:
    with database.unit_of_work() as uow, pytest.raises(ValueError, match="same keys"):
        update_rows(uow.session, Message, [{"id": 1, "status": "sent"}, {"id": 2}])
