"""Column types and engine settings that make SQLite and PostgreSQL behave alike."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.orm import Session

from nurture.services.uow import Database
from nurture.store.db import READONLY, make_engine
from nurture.store.models import Account

CREATED = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Paris"))  # DST day


def add_account(database: Database, created_at: datetime, domain: str = "example.com") -> int:
    with database.unit_of_work() as uow:
        account = Account(domain=domain, created_at=created_at, updated_at=created_at)
        uow.session.add(account)
        uow.session.flush()
        return account.id


class TestUTCDateTime:
    def test_round_trips_as_aware_utc(self, database: Database) -> None:
        account_id = add_account(database, CREATED)

        with database.unit_of_work(readonly=True) as uow:
            stored = uow.session.get_one(Account, account_id).created_at

        assert stored == CREATED
        assert stored.tzinfo is UTC
        assert stored == datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)

    def test_compares_instants_not_wall_clocks(self, database: Database) -> None:
        add_account(database, CREATED)
        just_before = CREATED.astimezone(ZoneInfo("America/New_York")) - timedelta(seconds=1)

        with database.unit_of_work(readonly=True) as uow:
            newer = uow.session.scalars(
                select(Account.domain).where(Account.created_at > just_before)
            ).all()

        assert newer == ["example.com"]

    def test_refuses_a_naive_datetime(self, database: Database) -> None:
        with pytest.raises(StatementError, match="naive datetime") as caught:
            add_account(database, datetime(2026, 3, 29, 3, 30))

        assert isinstance(caught.value.orig, TypeError)

    def test_refuses_a_naive_datetime_in_a_query(self, database: Database) -> None:
        with (
            pytest.raises(StatementError, match="naive datetime"),
            database.unit_of_work(readonly=True) as uow,
        ):
            uow.session.scalars(select(Account).where(Account.created_at > datetime(2026, 1, 1)))


def increment_concurrently(
    engine: Engine, *, both_read: threading.Barrier | None = None
) -> list[BaseException]:
    """Two threads each read the account's counter, pause, and write it back plus one.
    Returns what they raised. ``both_read`` holds each thread after its read until the
    other has read too (only possible if transactions do not serialise)."""
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            start.wait()
            with Session(engine) as session, session.begin():
                account = session.scalars(select(Account)).one()
                seen = int(account.name or "0")
                if both_read:
                    both_read.wait()
                else:
                    time.sleep(0.2)  # the other thread reads now, unless it waits to begin
                account.name = str(seen + 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def counter(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalars(select(Account.name)).one() or "0")


class TestSQLiteWriteTransactions:
    """DESIGN pitfall: a deferred SQLite transaction reads before it queues for the write
    lock, so two threads can both decide on the same stale value."""

    def test_begin_immediate_so_read_then_write_serialises(self, sqlite_url: str) -> None:
        engine = make_engine(sqlite_url)
        try:
            add_account(Database(engine), CREATED)

            errors = increment_concurrently(engine)

            assert errors == []
            assert counter(engine) == 2
        finally:
            engine.dispose()

    def test_deferred_transactions_would_race(self, sqlite_url: str) -> None:
        """The control: the same work in plain BEGIN transactions loses an update or
        fails with "database is locked", so the test above can tell the difference."""
        engine = make_engine(sqlite_url)
        try:
            add_account(Database(engine), CREATED)

            deferred = engine.execution_options(**{READONLY: True})  # plain BEGIN

            errors = increment_concurrently(deferred, both_read=threading.Barrier(2, timeout=5))

            assert [type(e) for e in errors] == [OperationalError]
            assert "database is locked" in str(errors[0])
            assert counter(engine) == 1
        finally:
            engine.dispose()
