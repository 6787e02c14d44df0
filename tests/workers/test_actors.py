"""The real actors on the in-process broker, with worker threads, as `nurture run` uses them:
enqueue after commit, run_steps -> deliver_messages -> provider, retries with Retry-After."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from dramatiq import Worker
from sqlalchemy import select

from nurture.core.clock import FrozenClock
from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.providers import MemoryProvider
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.scheduling import SchedulerOptions, tick
from nurture.services.uow import Database
from nurture.store.db import make_engine
from nurture.store.models import Message
from tests.services.conftest import MONDAY_9AM_CHICAGO
from tests.support import shipped_runtime
from workers import broker, dispatch
from workers.runtime import set_runtime

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine_on_broker(db_url, tmp_path):
    broker.flush_all()
    database = Database(make_engine(db_url), dispatch)
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    provider = MemoryProvider()
    runtime = shipped_runtime(database, tmp_path, provider, clock)
    set_runtime(runtime)
    worker = Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield runtime, provider
    worker.stop()
    set_runtime(None)
    broker.flush_all()
    database.engine.dispose()


def add_leads(runtime, count):
    items = [
        LeadIn.model_validate({"email": f"lead{i}@acme.example", "time_zone": "America/Chicago"})
        for i in range(count)
    ]
    with runtime.database.unit_of_work() as uow:
        upsert_leads(
            uow.session,
            runtime.funnels.current,
            items,
            now=runtime.clock.now(),
            default_time_zone="UTC",
        )


def drain():
    for queue in ("steps", "mail"):
        broker.join(queue, timeout=20_000)


def statuses(runtime):
    with runtime.database.unit_of_work(readonly=True) as uow:
        return sorted(uow.session.scalars(select(Message.status)))


def test_a_tick_sends_each_due_lead_its_welcome_through_the_actors(engine_on_broker):
    runtime, provider = engine_on_broker
    add_leads(runtime, 30)

    claimed = tick(runtime.database, runtime.clock, SchedulerOptions(chunk=7))
    drain()
    drain()  # run_steps enqueued deliver_messages jobs after its commits

    assert claimed == 30
    assert len(provider.sent) == 30
    assert statuses(runtime) == ["sent"] * 30


def test_retry_after_is_honoured_and_the_email_goes_once(engine_on_broker):
    runtime, provider = engine_on_broker
    provider.fail_next(ProviderUnavailable("429 slow down", retry_after=0.05))
    add_leads(runtime, 1)

    tick(runtime.database, runtime.clock, SchedulerOptions())
    drain()
    drain()

    assert provider.attempts == 2
    assert len(provider.sent) == 1
    assert statuses(runtime) == ["sent"]


def test_permanent_rejection_fails_the_message_without_retrying(engine_on_broker):
    runtime, provider = engine_on_broker
    provider.fail_next(ProviderRejected("550 no such user"))
    add_leads(runtime, 1)

    tick(runtime.database, runtime.clock, SchedulerOptions())
    drain()
    drain()

    assert provider.attempts == 1
    with runtime.database.unit_of_work(readonly=True) as uow:
        [message] = uow.session.scalars(select(Message))
        assert (message.status, message.error) == ("failed", "550 no such user")


def test_nothing_is_enqueued_when_the_transaction_rolls_back(engine_on_broker):
    runtime, _ = engine_on_broker
    add_leads(runtime, 3)
    runtime.clock.advance(timedelta(seconds=1))

    with pytest.raises(RuntimeError), runtime.database.unit_of_work() as uow:
        uow.jobs.enqueue("run_steps", [1, 2, 3])
        raise RuntimeError("boom")

    assert broker.queues["steps"].qsize() == 0
