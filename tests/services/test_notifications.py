"""The notifications outbox on both backends: deliver, retries from the database with
backoff and Retry-After, dead letters, jobs found again by the scheduler, replay. Rows are
written directly; the clock is injected and ``deliver`` / ``due_notifications`` are driven
by hand, as the actor and the scheduler would call them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from nurture.handoff import (
    NotificationRejected,
    NotificationUnavailable,
    SlackNotifier,
    WebhookNotifier,
    make_notifiers,
)
from nurture.handoff.http import make_client
from nurture.mail.providers import MemoryProvider
from nurture.services.notifications import (
    REQUEUE_AFTER,
    STUCK_AFTER,
    RetryPolicy,
    deliver,
    due_tick,
    retry,
)
from nurture.services.uow import Job
from nurture.settings import Settings
from nurture.store.handoff_models import Notification
from tests.handoff.conftest import insert_notification
from tests.handoff.test_email import SENDER

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HOOK = "/services/T000/B000/XXXX"
HALF = lambda: 0.5  # noqa: E731  (the jitter's random draw, fixed)


class Scripted:
    """A notifier that raises the scripted errors in order, then succeeds."""

    channel = "slack"

    def __init__(self, *errors: BaseException | None) -> None:
        self.errors = list(errors)  # None: that call succeeds
        self.calls = 0

    def send(self, context, recipient, idempotency_key):
        self.calls += 1
        if self.errors and (error := self.errors.pop(0)) is not None:
            raise error


@pytest.fixture
def client():
    with make_client(5.0) as http:
        yield http


def add(database, channel="slack", **fields) -> int:
    with database.unit_of_work() as uow:
        return insert_notification(uow.session, channel, fields.pop("now", T0), **fields)


def row(database, notification_id) -> Notification:
    with database.unit_of_work(readonly=True) as uow:
        found = uow.session.get(Notification, notification_id)
        assert found is not None
        return found


def due(database, now) -> int:
    """What the scheduler does each tick (``due_notifications`` in batches)."""
    return due_tick(database, now)


class TestRetries:
    def test_500_then_429_then_200_delivers_once_at_the_times_asked(
        self, database, jobs, httpserver, client
    ):
        # Given Slack answering 500, then 429 with Retry-After: 2, then ok
        httpserver.expect_ordered_request(HOOK).respond_with_data("rollup_error", status=500)
        httpserver.expect_ordered_request(HOOK).respond_with_data(
            "rate_limited", status=429, headers={"Retry-After": "2"}
        )
        httpserver.expect_ordered_request(HOOK).respond_with_data("ok")
        notifiers = {"slack": SlackNotifier(client, httpserver.url_for(HOOK))}
        notification_id = add(database)

        # When the first attempt meets the 500
        assert deliver(database, notifiers, notification_id, T0, random_=HALF) == "pending"
        # Then it is retried after the first backoff (10 s, half of it jittered away)
        first = row(database, notification_id)
        assert first.attempts == 1
        assert first.next_attempt_at == T0 + timedelta(seconds=7.5)
        assert first.last_error == "slack: POST localhost: 500 rollup_error"
        assert due(database, T0 + timedelta(seconds=7)) == 0
        assert jobs == []
        at = T0 + timedelta(seconds=7.5)
        assert due(database, at) == 1
        assert jobs == [Job("deliver_notifications", ([notification_id],))]
        assert due(database, at) == 0  # handed out once

        # When the second attempt is told to wait 2 seconds
        assert deliver(database, notifiers, notification_id, at, random_=HALF) == "pending"
        second = row(database, notification_id)
        assert second.last_error == "slack: POST localhost: 429 rate_limited"
        wait = second.next_attempt_at - at
        assert timedelta(seconds=2) <= wait <= timedelta(seconds=2.2)
        assert due(database, at + timedelta(seconds=1.9)) == 0
        # Then the third, when due, is delivered
        at = second.next_attempt_at
        assert due(database, at) == 1
        assert deliver(database, notifiers, notification_id, at, random_=HALF) == "sent"

        sent = row(database, notification_id)
        assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 3, at, None)
        assert [r.status_code for _, r in httpserver.log] == [500, 429, 200]
        # A duplicate job, or the scheduler later, sends nothing more
        assert deliver(database, notifiers, notification_id, at, random_=HALF) == "sent"
        assert due(database, at + timedelta(hours=1)) == 0
        assert len(httpserver.log) == 3

    def test_a_row_is_not_sent_before_its_retry_is_due(self, database, jobs):
        notifier = Scripted()
        notification_id = add(database, next_attempt_at=T0 + timedelta(seconds=30))

        status = deliver(database, {"slack": notifier}, notification_id, T0)

        assert (status, notifier.calls, row(database, notification_id).attempts) == (
            "pending", 0, 0,
        )  # fmt: skip

    def test_backoff_doubles_up_to_half_an_hour_with_jitter(self):
        policy = RetryPolicy()
        top = [policy.delay(n, None, lambda: 1.0).total_seconds() for n in range(1, 11)]
        low = [policy.delay(n, None, lambda: 0.0).total_seconds() for n in range(1, 11)]

        assert top == [10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800]
        assert low == [s / 2 for s in top]
        assert policy.delay(3, 600.0, lambda: 1.0) == timedelta(seconds=630)  # jitter <= 30 s

    def test_still_failing_after_the_give_up_limit_is_dead(self, database, jobs):
        notifier = Scripted(*[NotificationUnavailable("slack: 503 down")] * 20)
        policy = RetryPolicy(give_up_after=timedelta(minutes=1))
        notification_id = add(database)
        now, statuses = T0, []

        while (status := deliver(database, {"slack": notifier}, notification_id, now,
                                 policy=policy, random_=lambda: 1.0)) == "pending":  # fmt: skip
            statuses.append(status)
            now = row(database, notification_id).next_attempt_at

        # tries at 0, 10 s and 30 s; the next would come at 70 s, past the minute
        assert (status, notifier.calls, now) == ("dead", 3, T0 + timedelta(seconds=30))
        assert row(database, notification_id).last_error == (
            "gave up after 3 attempts in 0:00:30: slack: 503 down"
        )
        assert due(database, now + timedelta(days=1)) == 0


class TestDeadLetters:
    def test_a_permanent_400_is_dead_with_the_servers_reason(
        self, database, jobs, httpserver, client
    ):
        httpserver.expect_request(HOOK).respond_with_data("invalid_blocks", status=400)
        notification_id = add(database)
        notifiers = {"slack": SlackNotifier(client, httpserver.url_for(HOOK))}

        assert deliver(database, notifiers, notification_id, T0) == "dead"

        dead = row(database, notification_id)
        assert (dead.attempts, dead.last_error) == (1, "slack: POST localhost: 400 invalid_blocks")
        assert due(database, T0 + timedelta(days=2)) == 0

    def test_a_channel_without_its_url_is_dead_at_once_with_a_clear_message(self, database, jobs):
        notifiers = make_notifiers(Settings(), MemoryProvider(), lambda: SENDER)
        ids = {channel: add(database, channel) for channel in ("slack", "teams", "webhook")}

        for notification_id in ids.values():
            assert deliver(database, notifiers, notification_id, T0) == "dead"

        assert {c: row(database, i).last_error for c, i in ids.items()} == {
            "slack": "slack: NURTURE_SLACK_WEBHOOK_URL is not set",
            "teams": "teams: NURTURE_TEAMS_WEBHOOK_URL is not set",
            "webhook": "webhook: NURTURE_CRM_WEBHOOK_URL is not set",
        }

    def test_an_unknown_channel_or_a_failing_notifier_is_dead_not_stuck(self, database, jobs):
        unknown = add(database, "carrier-pigeon")
        broken = add(database)
        notifiers = {"slack": Scripted(KeyError("lead"))}

        assert deliver(database, notifiers, unknown, T0) == "dead"
        assert deliver(database, notifiers, broken, T0) == "dead"
        assert "no such channel" in row(database, unknown).last_error
        assert row(database, broken).last_error == "slack: KeyError: 'lead'"

    def test_retry_puts_dead_rows_back_due_now_and_hands_them_out(self, database, jobs):
        dead = [add(database, status="dead", attempts=4, last_error="x") for _ in range(3)]
        sent = add(database, status="sent", attempts=1)
        later = T0 + timedelta(days=3)

        with database.unit_of_work() as uow:
            assert retry(uow.session, uow.jobs, later, [dead[0], sent]) == [dead[0]]
        assert jobs == [Job("deliver_notifications", ([dead[0]],))]
        again = row(database, dead[0])
        assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, later)
        assert row(database, sent).status == "sent"

        with database.unit_of_work() as uow:
            assert retry(uow.session, uow.jobs, later, all_dead=True) == dead[1:]
        assert due(database, later) == 3  # the scheduler finds them too (no broker in the CLI)

    def test_a_retried_row_older_than_the_limit_gets_one_attempt(self, database, jobs):
        notification_id = add(database, status="dead", attempts=9)
        later = T0 + timedelta(days=3)
        with database.unit_of_work() as uow:
            retry(uow.session, uow.jobs, later, [notification_id])

        status = deliver(
            database, {"slack": Scripted(NotificationUnavailable("503"))}, notification_id, later
        )

        assert status == "dead"
        assert row(database, notification_id).attempts == 1


class TestIndependence:
    def test_slack_down_does_not_hold_up_the_crm(self, database, jobs, httpserver, client):
        httpserver.expect_request(HOOK).respond_with_data("rollup_error", status=503)
        httpserver.expect_request("/crm").respond_with_data("", status=204)
        notifiers = {
            "slack": SlackNotifier(client, httpserver.url_for(HOOK)),
            "webhook": WebhookNotifier(client, httpserver.url_for("/crm"), "s" * 20),
        }
        slack, crm = add(database, "slack"), add(database, "webhook")

        assert deliver(database, notifiers, slack, T0) == "pending"
        assert deliver(database, notifiers, crm, T0) == "sent"

    def test_a_rejected_row_does_not_affect_its_neighbour(self, database, jobs):
        notifier = Scripted(NotificationRejected("slack: 404 no_service"))
        first, second = add(database), add(database)

        assert deliver(database, {"slack": notifier}, first, T0) == "dead"
        assert deliver(database, {"slack": notifier}, second, T0) == "sent"


class TestFoundAgain:
    def test_a_lost_job_is_handed_out_again_after_the_requeue_delay(self, database, jobs):
        notification_id = add(database)  # pending, handed out at creation (next_attempt_at None)

        assert due(database, T0 + REQUEUE_AFTER - timedelta(seconds=1)) == 0
        assert due(database, T0 + REQUEUE_AFTER) == 1
        assert due(database, T0 + REQUEUE_AFTER + timedelta(seconds=1)) == 0
        assert jobs == [Job("deliver_notifications", ([notification_id],))]

    def test_a_row_stuck_in_sending_is_sent_again(self, database, jobs):
        notification_id = add(database, status="sending", attempts=1)
        notifier = Scripted()

        assert due(database, T0 + STUCK_AFTER - timedelta(seconds=1)) == 0
        assert due(database, T0 + STUCK_AFTER) == 1
        assert deliver(database, {"slack": notifier}, notification_id, T0 + STUCK_AFTER) == "sent"
        assert (notifier.calls, row(database, notification_id).attempts) == (1, 2)

    def test_a_slow_worker_does_not_overwrite_the_attempt_that_replaced_it(self, database, jobs):
        from nurture.services.notifications import claim, record

        notification_id = add(database)
        with database.unit_of_work() as uow:
            slow = claim(uow.session, notification_id, T0)
        assert due(database, T0 + STUCK_AFTER) == 1
        deliver(database, {"slack": Scripted()}, notification_id, T0 + STUCK_AFTER)

        with database.unit_of_work() as uow:  # the first worker finally answers: a failure
            record(uow.session, slow, {"status": "dead", "last_error": "late", "updated_at": T0})

        assert row(database, notification_id).status == "sent"

    def test_sent_and_dead_rows_are_never_handed_out(self, database, jobs):
        add(database, status="sent")
        add(database, status="dead", next_attempt_at=T0)

        assert due(database, T0 + timedelta(days=1)) == 0
        with database.unit_of_work(readonly=True) as uow:
            assert uow.session.scalars(
                select(Notification.status).order_by(Notification.id)
            ).all() == ["sent", "dead"]
