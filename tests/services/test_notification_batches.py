"""One channel's notification rows delivered as one job, on both backends: claimed in one
statement, each answer recorded as it comes (a worker killed mid-batch leaves one row in
doubt, not the batch), each row its own attempt (retry, dead letter), and a job whose
channel is slow hands the rows it could not try back in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from nurture.handoff import NotificationRejected, NotificationUnavailable
from nurture.services.notifications import BATCH_BUDGET, deliver_many, due_tick
from nurture.services.uow import Job
from tests.services.test_notifications import HALF, Scripted, add, row

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def statements(database):
    """The SQL statements run on the database's engine (an executemany counts once)."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper())

    event.listen(database.engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(database.engine, "before_cursor_execute", on_execute)


class Ticking:
    """A clock that moves ``step`` on every reading: each send seems to take that long."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.at, self.step = start, step

    def __call__(self) -> datetime:
        now, self.at = self.at, self.at + self.step
        return now


class TestBatch:
    def test_five_rows_are_claimed_in_one_statement_and_each_answer_recorded_at_once(
        self, database, jobs, statements
    ):
        ids = [add(database) for _ in range(5)]
        notifier = Scripted()
        statements.clear()

        found = deliver_many(database, {"slack": notifier}, ids, lambda: T0)

        assert found == dict.fromkeys(ids, "sent")
        assert notifier.calls == 5
        assert [s for s in statements if s in ("UPDATE", "SELECT", "INSERT")] == ["UPDATE"] * 6
        assert {(row(database, i).status, row(database, i).sent_at) for i in ids} == {("sent", T0)}

    def test_a_worker_killed_mid_batch_leaves_only_the_row_it_was_sending_in_doubt(
        self, database, jobs
    ):
        """Rows sent before the kill are recorded sent: the lease will not send them again
        (Slack would post twice); only the one being sent when it died is in doubt."""
        ids = [add(database) for _ in range(5)]
        notifier = Scripted(None, None, SystemExit("killed"))

        with pytest.raises(SystemExit):
            deliver_many(database, {"slack": notifier}, ids, lambda: T0)

        assert [row(database, i).status for i in ids] == ["sent", "sent"] + ["sending"] * 3

    def test_each_row_keeps_its_own_outcome(self, database, jobs, statements):
        ids = [add(database) for _ in range(4)]
        notifier = Scripted(
            NotificationRejected("slack: 404 no_service"),
            NotificationUnavailable("slack: 429", retry_after=2.0),
        )
        statements.clear()

        found = deliver_many(database, {"slack": notifier}, ids, lambda: T0, random_=HALF)

        assert list(found.values()) == ["dead", "pending", "sent", "sent"]
        retried = row(database, ids[1])
        assert (retried.attempts, retried.next_attempt_at) == (1, T0 + timedelta(seconds=2.1))
        assert row(database, ids[0]).last_error == "slack: 404 no_service"
        updates = [s for s in statements if s == "UPDATE"]
        assert len(updates) == 5  # the claim, then each row's answer as it comes

    def test_rows_not_claimable_are_left_alone_and_reported(self, database, jobs):
        sent = add(database, status="sent", attempts=1)
        later = add(database, next_attempt_at=T0 + timedelta(minutes=1))
        due = add(database)
        notifier = Scripted()

        found = deliver_many(
            database, {"slack": notifier}, [sent, later, due, due, 999_999], lambda: T0
        )

        assert found == {sent: "sent", later: "pending", due: "sent"}  # no such row: left out
        assert notifier.calls == 1
        assert row(database, later).attempts == 0

    def test_a_slow_channel_hands_back_the_rows_it_could_not_try_in_time(self, database, jobs):
        ids = [add(database) for _ in range(5)]
        notifier = Scripted(*[NotificationUnavailable("slack: timed out")] * 5)
        clock = Ticking(T0, BATCH_BUDGET / 2.5)  # each send seems to take 12 s

        found = deliver_many(database, {"slack": notifier}, ids, clock, random_=HALF)

        # tried at 12, 24 s; at 36 s the budget is spent: the last three were never called
        assert notifier.calls == 2
        assert list(found.values()) == ["pending"] * 5
        back = [row(database, i) for i in ids[2:]]
        assert {(r.attempts, r.status, r.last_error) for r in back} == {(0, "pending", None)}
        assert [r.next_attempt_at for r in back] == [T0 + BATCH_BUDGET / 2.5 * n for n in (3, 4, 5)]
        assert row(database, ids[0]).last_error == "slack: timed out"
        # the scheduler hands them out again (the tried ones after their backoff), together
        assert due_tick(database, T0 + timedelta(seconds=60)) == 5
        assert jobs == [Job("deliver_notifications", (ids,))]
