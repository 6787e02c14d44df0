"""What one delivery costs the database, on both backends: one connection checkout (and
pool ping) for the claim and the answer, no ORM session, and the sending state is not held
in a transaction while the channel is called."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from nurture.services.notifications import Claimed, deliver, record
from tests.handoff.conftest import insert_notification

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Watching:
    """A Slack stand-in that notes whether a transaction is open while it is called."""

    channel = "slack"

    def __init__(self, database) -> None:
        self.database = database
        self.in_transaction: list[bool] = []

    def send(self, context, recipient, idempotency_key):
        pool = self.database.engine.pool
        self.in_transaction.append(pool.checkedout() > 0 and _open_transactions[0] > 0)


_open_transactions = [0]


@pytest.fixture
def counted(database):
    """Counts pool checkouts and open transactions on the database's engine."""
    checkouts = [0]
    engine = database.engine

    def on_checkout(*_):
        checkouts[0] += 1

    def on_begin(_conn):
        _open_transactions[0] += 1

    def on_end(_conn):
        _open_transactions[0] -= 1

    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine, "begin", on_begin)
    event.listen(engine, "commit", on_end)
    event.listen(engine, "rollback", on_end)
    _open_transactions[0] = 0
    yield checkouts
    event.remove(engine.pool, "checkout", on_checkout)
    event.remove(engine, "begin", on_begin)
    event.remove(engine, "commit", on_end)
    event.remove(engine, "rollback", on_end)


def add(database) -> int:
    with database.unit_of_work() as uow:
        return insert_notification(uow.session, "slack", T0)


def test_a_delivery_checks_out_one_connection_and_holds_no_transaction_while_sending(
    database, counted, monkeypatch
):
    # Given a pending row, and no ORM session allowed during the delivery
    notification_id = add(database)
    notifier = Watching(database)
    monkeypatch.setattr(Session, "__init__", _no_session)
    counted[0] = 0
    # When it is delivered
    assert deliver(database, {"slack": notifier}, notification_id, T0) == "sent"
    # Then one checkout served the claim and the answer, with no transaction open meanwhile
    assert counted[0] == 1
    assert notifier.in_transaction == [False]


def test_a_duplicate_job_reads_the_status_on_the_same_connection(database, counted):
    notification_id = add(database)
    deliver(database, {"slack": Watching(database)}, notification_id, T0)
    counted[0] = 0
    assert deliver(database, {"slack": Watching(database)}, notification_id, T0) == "sent"
    assert counted[0] == 1


def test_recording_a_column_an_attempt_never_writes_is_refused(database):
    claimed = Claimed(1, "slack", None, {}, "key", 1, T0)
    with database.engine.begin() as connection, pytest.raises(ValueError, match="handoff_id"):
        record(connection, claimed, {"status": "sent", "handoff_id": 3})


def _no_session(*args, **kwargs):
    raise AssertionError("deliver opened an ORM session")
