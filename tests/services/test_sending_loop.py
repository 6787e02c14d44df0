"""The sending loop on SQLite and PostgreSQL: the shipped cold sequence, run by hand with a
frozen clock. Every email is checked against the invariants a user would notice."""

from __future__ import annotations

import email
import threading
from datetime import timedelta
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

from sqlalchemy import select

from nurture.errors import ProviderUnavailable
from nurture.mail.providers import DeliveryUnknown
from nurture.services import scheduling
from nurture.services.delivery import reconcile
from nurture.services.enrollment import wake_waiting
from nurture.services.scheduling import SchedulerOptions, reconcile_tick
from nurture.services.uow import Job
from nurture.store.claims import claim_due
from nurture.store.models import Event, Message

CHICAGO = ZoneInfo("America/Chicago")
COLD_NO_CLICK = ["welcome", "metrics-guide", "guide-reminder", "enterprise-story", "soft-ask"]


def record_only(loop):
    """Run steps (recording emails) but hold deliveries back."""
    return lambda job: loop.run_job(job) if job.actor == "run_steps" else None


def parsed(outgoing):
    return email.message_from_bytes(outgoing.mime.as_bytes(), policy=default_policy)


class TestColdSequenceEndToEnd:
    def test_runs_to_completion_with_one_email_per_step(self, loop):
        lead_id = loop.add_lead(attributes={"company_size": 240})

        loop.run_until_idle()

        messages = loop.messages(lead_id)
        assert [m.step_id for m in messages] == COLD_NO_CLICK
        assert {m.status for m in messages} == {"sent"}
        assert len(loop.provider.sent) == 5
        enrollment = loop.enrollment(lead_id)
        assert (enrollment.status, enrollment.exit_reason) == ("completed", "completed")
        version = loop.runtime.funnels.current.version
        assert {m.config_version for m in messages} == {version}

    def test_every_email_goes_out_inside_the_window_in_the_lead_zone(self, loop):
        lead_id = loop.add_lead(attributes={"company_size": 240})
        loop.run_until_idle()
        for message in loop.messages(lead_id):
            local = message.sent_at.astimezone(CHICAGO)
            assert local.weekday() < 5 and 9 <= local.hour < 17, local

    def test_frequency_cap_holds_over_every_rolling_week(self, loop):
        lead_id = loop.add_lead(attributes={"company_size": 240})
        loop.run_until_idle()
        times = [m.created_at for m in loop.messages(lead_id)]
        for t in times:
            assert sum(1 for other in times if t - timedelta(days=7) < other <= t) <= 3

    def test_headers_carry_correlation_and_one_click_unsubscribe(self, loop):
        lead_id = loop.add_lead()
        loop.run_until_idle(max_days=1)
        [message] = loop.messages(lead_id)
        [outgoing] = loop.provider.sent
        mime = parsed(outgoing)
        assert mime["To"] == "jordan@northwind.example"
        assert mime["X-Nurture-Message-Id"] == str(message.id)
        assert mime["Message-ID"] == f"<nurture.{message.id}@lumen-analytics.example>"
        unsubscribe = mime["List-Unsubscribe"]
        assert unsubscribe.startswith("<http://127.0.0.1:8000/u/") and "<mailto:" in unsubscribe
        assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = mime.get_body(("html",)).get_content()
        assert "548 Market St" in html and "/u/" in html
        assert mime["Subject"] == message.subject and "Jordan" in message.subject

    def test_a_click_on_the_guide_skips_the_reminder(self, loop):
        lead_id = loop.add_lead(attributes={"company_size": 40})
        while "metrics-guide" not in [m.step_id for m in loop.messages(lead_id)]:
            loop.step() or loop.clock.set(loop.next_due())
        guide = loop.messages(lead_id)[-1]
        loop.clock.advance(timedelta(hours=1))
        with loop.database.unit_of_work() as uow:
            uow.session.add(
                Event(
                    lead_id=lead_id,
                    message_id=guide.id,
                    type="clicked",
                    source="test",
                    source_event_id="click-1",
                    occurred_at=loop.clock.now(),
                    received_at=loop.clock.now(),
                    machine=False,
                    data={},
                )
            )
            wake_waiting(uow.session, [lead_id], loop.clock.now())
        loop.run_until_idle()
        steps = [m.step_id for m in loop.messages(lead_id)]
        assert steps == ["welcome", "metrics-guide", "startup-story", "soft-ask"]


class TestGuards:
    def test_unsubscribed_lead_receives_nothing_more(self, loop):
        lead_id = loop.add_lead()
        loop.run_until_idle(max_days=1)
        loop.update_lead(lead_id, contact_status="unsubscribed")

        loop.run_until_idle()

        assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]
        enrollment = loop.enrollment(lead_id)
        assert (enrollment.status, enrollment.exit_reason) == (
            "exited",
            "contact status unsubscribed",
        )

    def test_unsubscribe_between_recording_and_delivery_cancels_the_email(self, loop):
        lead_id = loop.add_lead()
        loop.database.dispatcher = record_only(loop)
        loop.step()
        loop.update_lead(lead_id, contact_status="unsubscribed")
        [queued] = loop.messages(lead_id)

        loop.run_job(Job("deliver_messages", ([queued.id],)))
        assert loop.provider.sent == []
        assert loop.messages(lead_id)[0].status == "cancelled"

    def test_lead_promoted_out_of_the_stage_leaves_at_once(self, loop):
        lead_id = loop.add_lead()
        loop.run_until_idle(max_days=1)
        loop.update_lead(lead_id, stage="warm")

        loop.run_until_idle()

        assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]
        enrollment = loop.enrollment(lead_id)
        assert (enrollment.status, enrollment.exit_reason) == ("completed", "goal: stage warm")

    def test_lead_moved_to_a_side_stage_exits(self, loop):
        lead_id = loop.add_lead()
        loop.run_until_idle(max_days=1)
        loop.update_lead(lead_id, stage="disqualified")
        loop.run_until_idle()
        enrollment = loop.enrollment(lead_id)
        assert (enrollment.status, enrollment.exit_reason) == (
            "exited",
            "stage changed to disqualified",
        )


class TestNeverTwice:
    def test_a_duplicate_run_of_the_same_enrollment_sends_once(self, loop):
        lead_id = loop.add_lead()
        enrollment_id = loop.enrollment(lead_id).id

        loop.run_job(Job("run_steps", ([enrollment_id, enrollment_id],)))
        loop.run_job(Job("run_steps", ([enrollment_id],)))

        assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]
        assert len(loop.provider.sent) == 1

    def test_provider_500_then_200_gives_one_email(self, loop):
        lead_id = loop.add_lead()
        loop.provider.fail_next(ProviderUnavailable("503 busy"))
        loop.step()
        [message] = loop.messages(lead_id)
        assert message.status == "queued" and "503" in message.error
        [retry] = loop.retries

        loop.run_job(retry)

        [message] = loop.messages(lead_id)
        assert (message.status, message.attempts) == ("sent", 2)
        assert len(loop.provider.sent) == 1

    def test_answer_lost_after_acceptance_is_never_resent(self, loop):
        lead_id = loop.add_lead()
        loop.provider.fail_next(DeliveryUnknown("timeout after DATA"), after_accepting=True)
        loop.step()
        [message] = loop.messages(lead_id)
        assert message.status == "unknown"
        loop.run_until_idle(max_days=1)
        assert loop.provider.attempts == 1

    def test_worker_dying_mid_call_is_reconciled_by_idempotency_key(self, loop):
        lead_id = loop.add_lead()
        loop.database.dispatcher = record_only(loop)
        loop.step()
        [message] = loop.messages(lead_id)
        with loop.database.unit_of_work() as uow:  # a worker took it, then died
            row = uow.session.get(Message, message.id)
            row.status = "sending"
            row.updated_at = loop.clock.now()
        loop.database.dispatcher = loop.run_job
        loop.clock.advance(timedelta(minutes=11))

        with loop.database.unit_of_work() as uow:
            counts = reconcile(
                uow.session, uow.jobs, loop.provider, loop.clock.now(), timedelta(minutes=10)
            )

        assert counts == {"sent": 0, "requeued": 1, "unknown": 0}
        assert [m.status for m in loop.messages(lead_id)] == ["sent"]
        assert len(loop.provider.sent) == 1


class TestLostJobs:
    """The broker may lose a deliver_messages job (Redis restarted, a worker killed between
    commit and enqueue): the row stays ``queued`` and the scheduler hands it out again."""

    def lose_the_delivery(self, loop):
        loop.database.dispatcher = record_only(loop)
        loop.step()
        loop.database.dispatcher = loop.run_job

    def test_a_queued_message_whose_job_was_lost_goes_out_after_requeue_after(self, loop):
        lead_id = loop.add_lead()
        self.lose_the_delivery(loop)
        options = SchedulerOptions()

        loop.clock.advance(options.requeue_after - timedelta(seconds=1))
        assert reconcile_tick(loop.database, loop.provider, loop.clock, options)["lost"] == 0
        assert loop.provider.sent == []

        loop.clock.advance(timedelta(seconds=2))
        assert reconcile_tick(loop.database, loop.provider, loop.clock, options)["lost"] == 1

        assert [m.status for m in loop.messages(lead_id)] == ["sent"]
        assert len(loop.provider.sent) == 1

    def test_the_original_job_arriving_after_the_requeue_sends_nothing_more(self, loop):
        lead_id = loop.add_lead()
        self.lose_the_delivery(loop)
        [message] = loop.messages(lead_id)
        loop.clock.advance(SchedulerOptions().requeue_after + timedelta(seconds=1))
        reconcile_tick(loop.database, loop.provider, loop.clock, SchedulerOptions())

        loop.run_job(Job("deliver_messages", ([message.id],)))  # the "lost" job was only late

        assert len(loop.provider.sent) == 1

    def test_a_requeued_message_is_not_requeued_again_before_requeue_after(self, loop):
        loop.add_lead()
        loop.database.dispatcher = record_only(loop)  # every delivery job is lost
        loop.step()
        options = SchedulerOptions()
        loop.clock.advance(options.requeue_after + timedelta(seconds=1))
        assert reconcile_tick(loop.database, loop.provider, loop.clock, options)["lost"] == 1

        loop.clock.advance(options.requeue_after - timedelta(seconds=1))
        assert reconcile_tick(loop.database, loop.provider, loop.clock, options)["lost"] == 0

    def test_lost_jobs_are_found_in_batches_until_none_is_left(self, loop, monkeypatch):
        monkeypatch.setattr(scheduling, "LOST_BATCH", 2)
        for i in range(5):
            loop.add_lead(f"lead{i}@acme.example")
        self.lose_the_delivery(loop)
        loop.clock.advance(SchedulerOptions().requeue_after + timedelta(seconds=1))

        counts = reconcile_tick(loop.database, loop.provider, loop.clock, SchedulerOptions())

        assert counts["lost"] == 5
        assert len(loop.provider.sent) == 5


def test_concurrent_claims_never_hand_out_one_enrollment_twice(loop):
    for i in range(200):
        loop.add_lead(f"lead{i}@acme.example")
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claimer():
        barrier.wait()
        with loop.database.unit_of_work() as uow:
            claimed.append(
                claim_due(uow.session, loop.clock.now(), lease=timedelta(minutes=5), limit=80)
            )

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [i for batch in claimed for i in batch]
    assert len(everything) == len(set(everything)) == 200


def test_expired_lease_is_claimed_again(loop):
    loop.add_lead()
    with loop.database.unit_of_work() as uow:
        first = claim_due(uow.session, loop.clock.now(), lease=timedelta(minutes=5), limit=10)
    with loop.database.unit_of_work() as uow:
        assert claim_due(uow.session, loop.clock.now(), lease=timedelta(minutes=5), limit=10) == []
    loop.clock.advance(timedelta(minutes=5, seconds=1))
    with loop.database.unit_of_work() as uow:
        again = claim_due(uow.session, loop.clock.now(), lease=timedelta(minutes=5), limit=10)
    assert again == first


def test_sent_rows_keep_no_body(loop):
    lead_id = loop.add_lead()
    loop.run_until_idle(max_days=1)
    with loop.database.unit_of_work(readonly=True) as uow:
        assert uow.session.scalars(
            select(Message.mime).where(Message.lead_id == lead_id)
        ).all() == [None]


def test_a_provider_down_for_good_fails_the_message_after_the_last_attempt(loop):
    from nurture.services.delivery import MAX_ATTEMPTS

    lead_id = loop.add_lead()
    loop.provider.fail_next(*[ProviderUnavailable("503 down") for _ in range(MAX_ATTEMPTS)])
    loop.step()
    while loop.retries:
        loop.run_job(loop.retries.pop())

    [message] = loop.messages(lead_id)
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert message.error == f"gave up after {MAX_ATTEMPTS} attempts: 503 down"
    assert loop.provider.sent == []
