"""One step, one email (DESIGN invariant 3) when processes die and the broker forgets
(invariant 1), proven with real processes on PostgreSQL and Redis.

Each test runs ``dramatiq workers`` and ``nurture scheduler`` processes with short leases
and reconcile delays, breaks something mid-run, lets the engine recover on its own, and then
checks the database and every copy the mail sink received.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from tests.faults.conftest import SEND_STEPS, Rig
from tests.faults.harness import wait_until

pytestmark = pytest.mark.slow

WORKER_THREADS = 4
RECOVERY_TIMEOUT = 180.0  # a failure timeout; each wait usually takes 5-60 s


def welcomes(rig: Rig) -> int:
    return sum(1 for copy in rig.mail.copies() if copy.subject.startswith("Welcome"))


def wait_settled(rig: Rig, leads: int) -> None:
    wait_until(
        lambda: rig.settled(leads),
        timeout=RECOVERY_TIMEOUT,
        what=f"{leads} leads to get both emails recorded and nothing left in flight",
        processes=rig.processes,
        state=rig.state,
    )


def assert_one_row_per_step(rig: Rig, leads: int) -> None:
    rows = rig.messages()
    per_lead_step = Counter((m.lead_id, m.step_id) for m in rows)
    assert len(per_lead_step) == leads * len(SEND_STEPS)
    assert set(per_lead_step.values()) == {1}, "a step was recorded twice for a lead"
    assert {step for _, step in per_lead_step} == set(SEND_STEPS)


def assert_no_copy_twice(rig: Rig) -> None:
    by_id = rig.mail.by_message_id()
    twice = {message_id: n for message_id, n in by_id.items() if n > 1}
    assert not twice, f"messages received more than once: {twice}"
    by_to_subject = rig.mail.by_to_and_subject()
    assert max(by_to_subject.values()) == 1, "one recipient got the same email twice"
    known = {str(m.id) for m in rig.messages()}
    assert set(by_id) <= known, "mail for a message the database does not know"


class TestWorkerKilledMidBatch:
    """SIGKILL a worker's whole process group while 1,000 leads are being mailed."""

    def kill_mid_batch(
        self, rig: Rig, leads: int, hold: int = 0, requeue_after: float = 20
    ) -> Counter[str]:
        """Kill the worker once a tenth of the welcomes arrived, with ``hold`` sends stopped
        between the catcher storing the message and the worker hearing it was accepted.
        Deliveries the dead worker had taken from Redis come back after ``requeue_after``."""
        rig.add_leads(leads)
        worker = rig.start_worker(threads=WORKER_THREADS)
        rig.start_scheduler(requeue_after=requeue_after)
        wait_until(
            lambda: welcomes(rig) >= leads // 10,
            timeout=RECOVERY_TIMEOUT,
            what=f"the first {leads // 10} welcome emails",
            processes=rig.processes,
            state=rig.state,
            every=0.05,
        )
        rig.catcher.hold(hold)
        wait_until(
            lambda: len(rig.catcher.held()) == hold,
            timeout=30,
            what=f"{hold} sends held in the middle",
            processes=rig.processes,
            state=rig.state,
            every=0.01,
        )
        rig.processes.kill(worker)
        rig.catcher.release()  # too late: the worker that was waiting for the reply is gone
        at_kill = rig.statuses()
        assert welcomes(rig) < leads, "the batch was over before the kill: not a mid-batch test"
        rig.start_worker(threads=WORKER_THREADS)
        wait_settled(rig, leads)
        return at_kill

    def test_over_smtp_every_step_is_recorded_once_and_sent_at_most_once(self, rig):
        leads = 1000
        at_kill = self.kill_mid_batch(rig, leads, hold=2)

        assert_one_row_per_step(rig, leads)
        assert_no_copy_twice(rig)
        rows = {str(m.id): m for m in rig.messages()}
        assert {m.status for m in rows.values()} <= {"sent", "unknown"}
        copies = rig.mail.by_message_id()
        sent = [i for i, m in rows.items() if m.status == "sent"]
        assert all(copies[i] == 1 for i in sent), "a message marked sent was not received"
        # The sends killed mid-call reached the server, but SMTP cannot be asked about them:
        # they end `unknown`, never sent again. Only the worker's other threads can add more.
        unknown = [i for i, m in rows.items() if m.status == "unknown"]
        held = rig.catcher.held()
        assert set(held) <= set(unknown) and len(unknown) <= WORKER_THREADS
        assert [copies[i] for i in held] == [1] * len(held)
        assert all(copies[i] <= 1 for i in unknown)
        assert {rows[i].error for i in unknown} == {"worker stopped during the provider call"}
        print(
            f"\nat kill: {dict(at_kill)}; unknown: {len(unknown)}, received: "
            f"{sum(copies[i] for i in unknown)}"
        )

    def test_over_outbox_the_reconciler_resolves_every_row_to_sent(self, rig):
        # The outbox can be asked by idempotency key: a row caught mid-send is found `sent`
        # if its file exists, else queued again; either way exactly one file per row.
        rig.provider = "outbox"
        leads = 1000  # 100 were all mailed between two polls of the test: no kill mid-batch
        self.kill_mid_batch(rig, leads, requeue_after=5)  # the backlog drains in seconds

        assert_one_row_per_step(rig, leads)
        assert_no_copy_twice(rig)
        rows = rig.messages()
        assert {m.status for m in rows} == {"sent"}
        assert rig.mail.names() == {f"nurture-{m.id}.eml" for m in rows}


def test_two_schedulers_at_once_send_each_step_once(rig):
    # Both schedulers poll before the leads arrive. A two-second lease, shorter than the
    # batch takes, makes them hand out again enrollments whose run_steps message is still
    # queued or running: one enrollment goes to several messages and threads.
    leads = 200
    rig.start_scheduler(lease=2)
    rig.start_scheduler(lease=2)
    rig.start_worker(threads=WORKER_THREADS)
    rig.add_leads(leads)

    wait_settled(rig, leads)

    assert_one_row_per_step(rig, leads)
    assert {m.status for m in rig.messages()} == {"sent"}
    assert_no_copy_twice(rig)
    assert len(rig.mail.copies()) == leads * len(SEND_STEPS)


def test_redis_restarted_mid_run_loses_nothing(rig):
    leads = 200
    rig.add_leads(leads)
    # Steps first, alone, in small chunks: 40 delivery jobs wait in Redis, then a mail
    # worker starts on them; Redis dies while most are still waiting there.
    scheduler = rig.start_scheduler(requeue_after=10, chunk=5)
    rig.start_worker(threads=WORKER_THREADS, queues=("steps",))
    wait_until(
        lambda: rig.statuses()["queued"] >= leads,
        timeout=RECOVERY_TIMEOUT,
        what="every welcome recorded (nothing delivered: no mail worker yet)",
        processes=rig.processes,
        state=rig.state,
    )
    rig.start_worker(threads=WORKER_THREADS, queues=("mail",))
    wait_until(
        lambda: welcomes(rig) >= 10,
        timeout=RECOVERY_TIMEOUT,
        what="the first emails going out",
        processes=rig.processes,
        state=rig.state,
        every=0.02,
    )

    rig.redis.kill()  # every queued job and every delayed retry is gone
    time.sleep(1.0)  # workers and scheduler find it gone
    rig.redis.start()  # empty, on the same socket path

    wait_settled(rig, leads)
    assert_one_row_per_step(rig, leads)
    assert {m.status for m in rig.messages()} == {"sent"}
    assert_no_copy_twice(rig)
    assert len(rig.mail.copies()) == leads * len(SEND_STEPS)
    # The lost deliveries came back from the database, not from the broker.
    lost = [int(n) for n in re.findall(r"'lost': (\d+)", scheduler.log.read_text())]
    assert sum(lost) > 0, "no lost delivery was re-enqueued"
