"""Reserved message ids: unique, ascending, and never handed out twice, even to
concurrent transactions (PostgreSQL's sequence; SQLite's single writer)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from nurture.services.uow import Database
from nurture.store.ids import reserve_message_ids
from nurture.store.models import Enrollment, Lead, Message


def test_reserved_ids_are_ascending_and_distinct(database: Database) -> None:
    with database.unit_of_work() as uow:
        ids = reserve_message_ids(uow.session, 5)

    assert ids == sorted(set(ids)) and len(ids) == 5
    with database.unit_of_work() as uow:
        assert reserve_message_ids(uow.session, 0) == []


def test_concurrent_transactions_never_get_the_same_id(database: Database) -> None:
    got: list[list[int]] = []
    lock = threading.Lock()

    def reserve() -> None:
        for _ in range(5):
            with database.unit_of_work() as uow:
                ids = reserve_message_ids(uow.session, 20)
                _insert(uow.session, ids)  # the ids are used, as a sending transaction does
            with lock:
                got.append(ids)

    threads = [threading.Thread(target=reserve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [i for ids in got for i in ids]
    assert len(everything) == len(set(everything)) == 4 * 5 * 20


def _insert(session: Session, ids: list[int]) -> None:
    """Rows need a lead and an enrollment; the id is what matters here."""
    now = datetime.now(UTC)
    lead = Lead(
        email=f"ids-{ids[0]}@example.com",
        time_zone="UTC",
        stage="cold",
        attributes={},
        created_at=now,
        updated_at=now,
    )
    session.add(lead)
    session.flush()
    enrollment = Enrollment(
        lead_id=lead.id,
        sequence_id="s",
        stage="cold",
        status="completed",
        config_version="v",
        started_at=now,
        updated_at=now,
    )
    session.add(enrollment)
    session.flush()
    session.add_all(
        Message(
            id=i,
            enrollment_id=enrollment.id,
            lead_id=lead.id,
            sequence_id="s",
            step_id=f"step-{i}",
            occurrence=1,
            config_version="v",
            to_address=lead.email,
            subject="s",
            status="sent",
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        for i in ids
    )
