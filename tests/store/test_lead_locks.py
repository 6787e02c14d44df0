"""Per-lead work is serialised by a row lock that does not block events being stored for
the lead meanwhile (FOR NO KEY UPDATE vs. the KEY SHARE lock an event's foreign key takes):
with FOR UPDATE, concurrent webhook batches and suppression deadlocked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text

from nurture.services.step_batch import load_chunk
from nurture.services.uow import Database
from nurture.store.db import make_engine
from nurture.store.models import Enrollment, Event, Lead


@pytest.fixture
def pg(postgres_url: str) -> Database:
    return Database(make_engine(postgres_url))


def test_a_locked_lead_still_takes_new_events(pg: Database) -> None:
    now = datetime.now(UTC)
    with pg.unit_of_work() as uow:
        lead = Lead(
            email="lock@example.com",
            time_zone="UTC",
            stage="cold",
            attributes={},
            created_at=now,
            updated_at=now,
        )
        uow.session.add(lead)
        uow.session.flush()
        enrollment = Enrollment(
            lead_id=lead.id,
            sequence_id="s",
            stage="cold",
            status="active",
            next_run_at=now,
            config_version="v",
            started_at=now,
            updated_at=now,
        )
        uow.session.add(enrollment)
        uow.session.flush()
        lead_id, enrollment_id = lead.id, enrollment.id

    with pg.unit_of_work() as stepping:  # the sending loop holds the lead
        chunk = load_chunk(stepping.session, [enrollment_id], now, now - now)
        assert list(chunk.leads) == [lead_id]
        with pg.engine.begin() as webhook:  # a webhook stores an event for it meanwhile
            webhook.execute(text("SET LOCAL lock_timeout = '2s'"))
            webhook.execute(
                insert(Event).values(
                    lead_id=lead_id,
                    type="opened",
                    source="sendgrid",
                    source_event_id="e1",
                    occurred_at=now,
                    received_at=now,
                    machine=False,
                    data={},
                )
            )
    pg.engine.dispose()
