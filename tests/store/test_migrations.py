"""The one migration path: from empty to head and back, on both backends, and the models
agree with it (autogenerate finds nothing to do)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from nurture.services.uow import Database
from nurture.store.db import make_engine
from nurture.store.migrate import current_revision, downgrade, head_revision, upgrade
from nurture.store.models import Base, Enrollment, Lead

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TABLES = {
    "accounts",
    "leads",
    "enrollments",
    "messages",
    "events",
    "stage_changes",
    "webhook_tokens",
    "visitors",
    "handoffs",
    "handoff_answers",
    "rep_states",
    "notifications",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables at all), once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    server.execute("CREATE DATABASE empty_for_migrations")
    yield server.url("empty_for_migrations")
    server.execute("DROP DATABASE empty_for_migrations WITH (FORCE)")


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def add_lead(database: Database) -> int:
    with database.unit_of_work() as uow:
        lead = Lead(
            email="ada@example.com",
            time_zone="UTC",
            stage="cold",
            created_at=NOW,
            updated_at=NOW,
        )
        uow.session.add(lead)
        uow.session.flush()
        return lead.id


def enroll(database: Database, lead_id: int, status: str) -> None:
    with database.unit_of_work() as uow:
        uow.session.add(
            Enrollment(
                lead_id=lead_id,
                sequence_id="cold-education",
                stage="cold",
                status=status,
                config_version="v1",
                started_at=NOW,
                updated_at=NOW,
            )
        )


class TestUpgrade:
    def test_from_empty_creates_every_table_at_head(self, empty_url: str) -> None:
        # Given an empty database / When upgraded
        upgrade(empty_url)
        # Then every table is there and the database is at head
        assert table_names(empty_url) == TABLES | {"alembic_version"}
        assert current_revision(empty_url) == head_revision()

    def test_at_head_is_a_no_op(self, db_url: str) -> None:
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()

    def test_creates_the_partial_unique_index_on_live_enrollments(self, db_url: str) -> None:
        engine = make_engine(db_url)
        try:
            indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("enrollments")}
        finally:
            engine.dispose()
        live = indexes["uq_enrollments_live_lead"]
        assert live["unique"]
        assert live["column_names"] == ["lead_id"]
        where = next(iter(live.get("dialect_options", {}).values()), "")
        assert "active" in str(where)
        assert "waiting_for_event" in str(where)


class TestOneLiveEnrollmentPerLead:
    def test_a_second_live_enrollment_is_refused(self, database: Database) -> None:
        lead_id = add_lead(database)
        enroll(database, lead_id, "active")
        with pytest.raises(IntegrityError):
            enroll(database, lead_id, "waiting_for_event")

    def test_ended_enrollments_do_not_count(self, database: Database) -> None:
        lead_id = add_lead(database)
        enroll(database, lead_id, "completed")
        enroll(database, lead_id, "exited")
        enroll(database, lead_id, "active")
        with database.unit_of_work(readonly=True) as uow:
            assert uow.session.query(Enrollment).filter_by(lead_id=lead_id).count() == 3


class TestDowngrade:
    def test_to_base_drops_every_table_and_upgrade_restores_them(self, db_url: str) -> None:
        downgrade(db_url, "base")
        assert table_names(db_url) == {"alembic_version"}
        assert current_revision(db_url) is None

        upgrade(db_url)
        assert table_names(db_url) == TABLES | {"alembic_version"}
        assert current_revision(db_url) == head_revision()


class TestModelsMatchMigrations:
    def test_autogenerate_finds_no_difference(self, db_url: str) -> None:
        engine = make_engine(db_url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, Base.metadata) == []
        finally:
            engine.dispose()


class TestEngagementMigration:
    def test_0002_keeps_existing_leads_active_and_unpaused(self, db_url: str) -> None:
        # Given a database at 0001 holding a lead
        downgrade(db_url, "0001")
        engine = make_engine(db_url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "INSERT INTO leads (email, time_zone, attributes, stage, contact_status, "
                    "created_at, updated_at) VALUES ('ada@example.com', 'UTC', '{}', 'cold', "
                    "'active', '2026-03-02 09:30:00+00:00', '2026-03-02 09:30:00+00:00')"
                )
        finally:
            engine.dispose()
        # When upgraded to head
        upgrade(db_url)
        # Then the lead is there, not paused, and the token table exists
        engine = make_engine(db_url)
        try:
            with Database(engine).unit_of_work(readonly=True) as uow:
                lead = uow.session.query(Lead).one()
        finally:
            engine.dispose()
        assert (lead.contact_status, lead.paused_until) == ("active", None)
        assert lead.contact_status_changed_at is None
        assert "webhook_tokens" in table_names(db_url)
