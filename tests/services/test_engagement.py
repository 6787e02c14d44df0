"""Storing provider events and what they do to leads, on SQLite and PostgreSQL: matching,
dedup, machine flags, suppression (and that nothing more is sent), soft-bounce counting,
out-of-order events, wake-ups, the follow-up job, the database token cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nurture.core.clock import FrozenClock
from nurture.ingest.events import EventType, InboundEvent
from nurture.services import engagement
from nurture.services.engagement import StoredCounts, store_events
from nurture.services.suppression import SoftBouncePolicy
from nurture.services.uow import Job, Jobs
from nurture.services.webhook_tokens import DatabaseTokenCache
from nurture.store.models import Event, Lead, WebhookToken

POLICY = SoftBouncePolicy(limit=3, window=timedelta(days=7))


@pytest.fixture
def jobs(loop):
    """Jobs sent after commit: process_engagement recorded here, the rest run by the loop."""
    sent: list[Job] = []

    def dispatch(job: Job) -> None:
        if job.actor == "process_engagement":
            sent.append(job)
        else:
            loop.run_job(job)

    loop.database.dispatcher = dispatch
    return sent


def store(loop, *events: InboundEvent) -> StoredCounts:
    with loop.database.unit_of_work() as uow:
        return store_events(uow.session, uow.jobs, list(events), loop.clock.now(), POLICY)


def sent_lead(loop, email="jordan@northwind.example"):
    """A lead who has received the welcome email: (lead id, that message)."""
    lead_id = loop.add_lead(email)
    loop.run_until_idle(max_days=1)
    [message] = loop.messages(lead_id)
    return lead_id, message


def event(message, kind=EventType.DELIVERED, event_id="evt-1", **fields) -> InboundEvent:
    values = {
        "provider": "sendgrid",
        "type": kind,
        "provider_event_id": event_id,
        "occurred_at": message.sent_at + timedelta(hours=1),
        "recipient": message.to_address,
        "our_message_id": message.id,
    } | fields
    return InboundEvent(**values)


def lead(loop, lead_id) -> Lead:
    with loop.database.unit_of_work(readonly=True) as uow:
        found = uow.session.get(Lead, lead_id)
        assert found is not None
        return found


def events(loop, lead_id=None) -> list[Event]:
    with loop.database.unit_of_work(readonly=True) as uow:
        query = select(Event).order_by(Event.occurred_at, Event.id)
        if lead_id is not None:
            query = query.where(Event.lead_id == lead_id)
        return list(uow.session.scalars(query))


class TestMatching:
    def test_by_our_message_id(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        assert store(loop, event(message)) == StoredCounts(stored=1)
        [stored] = events(loop)
        assert (stored.lead_id, stored.message_id, stored.type) == (
            lead_id,
            message.id,
            "delivered",
        )

    def test_by_provider_message_id_sent_through_that_provider(self, loop, jobs):
        _, message = sent_lead(loop)
        by_provider = event(
            message, our_message_id=None, provider=message.provider,
            provider_message_id=message.provider_message_id,
        )  # fmt: skip
        other_provider = event(
            message, event_id="evt-2", our_message_id=None, recipient=None,
            provider="postmark", provider_message_id=message.provider_message_id,
        )  # fmt: skip
        counts = store(loop, by_provider, other_provider)
        assert (counts.stored, counts.unmatched) == (1, 1)
        assert [e.message_id for e in events(loop)] == [message.id]

    def test_our_id_on_someone_elses_message_matches_the_recipient_lead_only(self, loop, jobs):
        _, message = sent_lead(loop)
        other = loop.add_lead("casey@acme.example")
        store(loop, event(message, recipient="casey@acme.example"))
        [stored] = events(loop)
        assert (stored.lead_id, stored.message_id) == (other, None)

    def test_unknown_message_and_recipient_is_counted_not_stored(self, loop, jobs):
        _, message = sent_lead(loop)
        stray = event(message, our_message_id=999_999, recipient="nobody@else.example")
        assert store(loop, stray) == StoredCounts(unmatched=1)
        assert events(loop) == []
        assert jobs == []


class TestDedup:
    def test_a_retry_and_a_repeat_in_the_batch_are_stored_once(self, loop, jobs):
        _, message = sent_lead(loop)
        first = store(loop, event(message), event(message))
        again = store(loop, event(message))
        assert (first.stored, first.duplicates) == (1, 1)
        assert (again.stored, again.duplicates) == (0, 1)
        assert len(events(loop)) == 1

    def test_a_batch_is_stored_and_followed_up_in_one_job(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        batch = [event(message, event_id=f"evt-{i}") for i in range(250)]
        assert store(loop, *batch).stored == 250
        assert jobs == [Job("process_engagement", ([lead_id],))]


class TestMachineFlags:
    def test_click_seconds_after_sending_is_a_link_scanner(self, loop, jobs):
        _, message = sent_lead(loop)
        store(
            loop,
            event(message, EventType.CLICKED, "scan", url="https://x.example/a",
                  occurred_at=message.sent_at + timedelta(seconds=3)),
            event(message, EventType.CLICKED, "person", url="https://x.example/a",
                  occurred_at=message.sent_at + timedelta(hours=2)),
        )  # fmt: skip
        flags = {e.source_event_id: (e.machine, e.machine_reason) for e in events(loop)}
        assert flags["person"] == (False, None)
        assert flags["scan"][0] is True and "link scanner" in flags["scan"][1]

    def test_two_links_in_the_same_second_across_batches_are_a_scanner(self, loop, jobs):
        _, message = sent_lead(loop)
        at = message.sent_at + timedelta(hours=2)
        store(loop, event(message, EventType.CLICKED, "c1", url="https://x.example/a",
                          occurred_at=at))  # fmt: skip
        store(loop, event(message, EventType.CLICKED, "c2", url="https://x.example/b",
                          occurred_at=at + timedelta(milliseconds=300)))  # fmt: skip
        second = next(e for e in events(loop) if e.source_event_id == "c2")
        assert second.machine and "2 links" in (second.machine_reason or "")

    def test_provider_flag_and_apple_privacy_opens_are_machine(self, loop, jobs):
        _, message = sent_lead(loop)
        store(
            loop,
            event(message, EventType.OPENED, "flag", provider_machine="sg_machine_open"),
            event(message, EventType.OPENED, "mpp", user_agent="Mozilla/5.0"),
            event(message, EventType.OPENED, "gmail", user_agent="Mozilla/5.0 GoogleImageProxy"),
        )
        flags = {e.source_event_id: e.machine for e in events(loop)}
        assert flags == {"flag": True, "mpp": True, "gmail": False}


def assert_suppressed(loop, lead_id, status):
    """The lead is suppressed, its enrollment exited, and the loop sends nothing more."""
    assert lead(loop, lead_id).contact_status == status
    assert loop.enrollment(lead_id).status == "exited"
    loop.run_until_idle()
    assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]


class TestSuppression:
    def test_without_a_signal_the_sequence_goes_on(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        store(loop, event(message))
        loop.run_until_idle()
        assert len(loop.messages(lead_id)) > 1

    def test_hard_bounce_suppresses_and_the_next_step_is_not_sent(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        store(loop, event(message, EventType.BOUNCED, bounce="hard", reason="550 user unknown"))
        enrollment = loop.enrollment(lead_id)
        assert enrollment.exit_reason == "hard bounce (sendgrid)"
        assert_suppressed(loop, lead_id, "bounced")

    def test_provider_unsubscribe_stops_sending(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        store(loop, event(message, EventType.UNSUBSCRIBED))
        assert_suppressed(loop, lead_id, "unsubscribed")

    def test_complaint_suppresses(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        store(loop, event(message, EventType.COMPLAINED))
        assert_suppressed(loop, lead_id, "complained")

    def test_a_lead_matched_by_recipient_only_is_suppressed_too(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        store(loop, event(message, EventType.UNSUBSCRIBED, our_message_id=None))
        assert_suppressed(loop, lead_id, "unsubscribed")


def soft(message, n, at):
    return event(message, EventType.BOUNCED, f"soft-{n}", bounce="soft", occurred_at=at)


class TestSoftBounces:
    def test_below_the_limit_the_lead_stays_active(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        at = message.sent_at
        store(loop, soft(message, 1, at), soft(message, 2, at + timedelta(days=1)))
        assert lead(loop, lead_id).contact_status == "active"
        assert loop.enrollment(lead_id).status != "exited"

    def test_the_limit_within_the_window_suppresses(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        at = message.sent_at
        store(loop, soft(message, 1, at), soft(message, 2, at + timedelta(days=1)))
        store(loop, soft(message, 3, at + POLICY.window))  # exactly at the window's end
        assert_suppressed(loop, lead_id, "bounced")
        assert loop.enrollment(lead_id).exit_reason == "3 soft bounces within 7 days"

    def test_the_limit_spread_wider_than_the_window_does_not(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        at = message.sent_at
        store(loop, soft(message, 1, at), soft(message, 2, at + timedelta(days=1)))
        store(loop, soft(message, 3, at + POLICY.window + timedelta(hours=1)))
        assert lead(loop, lead_id).contact_status == "active"

    def test_a_late_old_soft_bounce_counts_where_it_happened(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        at = message.sent_at
        store(
            loop, soft(message, 2, at + timedelta(days=2)), soft(message, 3, at + timedelta(days=3))
        )
        store(loop, soft(message, 1, at))  # arrives last, happened first
        assert lead(loop, lead_id).contact_status == "bounced"


class TestOutOfOrder:
    def test_an_unsubscribe_from_before_a_resubscribe_does_not_undo_it(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        resubscribed_at = message.sent_at + timedelta(hours=3)
        loop.update_lead(
            lead_id, contact_status="active", contact_status_changed_at=resubscribed_at
        )
        late = event(
            message, EventType.UNSUBSCRIBED, occurred_at=resubscribed_at - timedelta(hours=1)
        )
        assert store(loop, late).stored == 1  # stored, as history
        assert lead(loop, lead_id).contact_status == "active"
        assert loop.enrollment(lead_id).status != "exited"

    def test_a_late_delivery_or_unsubscribe_does_not_change_a_bounced_lead(self, loop, jobs):
        lead_id, message = sent_lead(loop)
        bounced_at = message.sent_at + timedelta(minutes=5)
        store(loop, event(message, EventType.BOUNCED, "b", bounce="hard", occurred_at=bounced_at))
        store(
            loop,
            event(message, EventType.DELIVERED, "d", occurred_at=bounced_at - timedelta(minutes=1)),
            event(message, EventType.UNSUBSCRIBED, "u", occurred_at=bounced_at + timedelta(days=1)),
        )
        after = lead(loop, lead_id)
        assert (after.contact_status, after.contact_status_changed_at) == ("bounced", bounced_at)
        assert loop.enrollment(lead_id).exit_reason == "hard bounce (sendgrid)"


class TestFollowUp:
    def waiting_lead(self, loop):
        lead_id, _ = sent_lead(loop)
        while loop.enrollment(lead_id).status != "waiting_for_event":
            loop.step() or loop.clock.set(loop.next_due())
        [*_, guide] = loop.messages(lead_id)
        return lead_id, guide

    def test_a_real_click_wakes_the_waiting_enrollment(self, loop, jobs):
        lead_id, guide = self.waiting_lead(loop)
        loop.clock.advance(timedelta(hours=1))
        store(loop, event(guide, EventType.CLICKED, url="https://x.example/guide",
                          occurred_at=loop.clock.now()))  # fmt: skip
        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()
        assert jobs == [Job("process_engagement", ([lead_id],))]

    def test_a_machine_open_does_not(self, loop, jobs):
        lead_id, guide = self.waiting_lead(loop)
        before = loop.enrollment(lead_id).next_run_at
        loop.clock.advance(timedelta(hours=1))
        store(loop, event(guide, EventType.OPENED, user_agent="Mozilla/5.0"))
        assert loop.enrollment(lead_id).next_run_at == before

    def test_process_engagement_wakes_the_leads_waiting_enrollments(self, loop, jobs):
        lead_id, _ = self.waiting_lead(loop)
        loop.clock.advance(timedelta(hours=1))
        with loop.database.unit_of_work() as uow:
            funnel = loop.runtime.funnels.current
            engagement.process_engagement(
                uow.session, uow.jobs, funnel, [lead_id], loop.clock.now()
            )
        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()

    def test_jobs_wait_for_the_commit(self, loop, jobs):
        _, message = sent_lead(loop)
        buffer = Jobs()
        with loop.database.unit_of_work() as uow:
            store_events(uow.session, buffer, [event(message)], loop.clock.now())
            assert jobs == []  # buffered, not sent
        assert [job.actor for job in buffer.pending] == ["process_engagement"]


class TestDatabaseTokenCache:
    def test_a_token_is_refused_the_second_time_by_any_process(self, database):
        clock = FrozenClock(loop_start())
        first = DatabaseTokenCache(database, clock, timedelta(minutes=10))
        second = DatabaseTokenCache(database, clock, timedelta(minutes=10))
        assert first.seen("a" * 50) is False
        assert second.seen("a" * 50) is True
        assert first.seen("b" * 50) is False

    def test_old_tokens_are_pruned(self, database):
        clock = FrozenClock(loop_start())
        cache = DatabaseTokenCache(database, clock, timedelta(minutes=10))
        cache.seen("old")
        clock.advance(timedelta(minutes=11))
        cache.seen("new")
        with database.unit_of_work(readonly=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(WebhookToken)) == 1


def loop_start():
    from tests.services.conftest import MONDAY_9AM_CHICAGO

    return MONDAY_9AM_CHICAGO
