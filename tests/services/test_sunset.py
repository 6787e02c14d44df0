"""Sunset on the shipped funnel: quiet leads get the re-engagement sequence; silence through
it makes them unengaged (no more marketing email); a click keeps them."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from nurture.ingest.events import EventType, InboundEvent
from nurture.services.engagement import store_events
from nurture.services.scheduling import Scheduler
from nurture.services.sunset import sunset_tick
from nurture.store.models import Enrollment, Lead
from tests.services.conftest import Loop


def tick(loop: Loop) -> tuple[int, int]:
    with loop.database.unit_of_work() as uow:
        counts = sunset_tick(uow.session, loop.runtime.funnels.current, loop.clock.now())
    return counts.started, counts.unengaged


def status(loop: Loop, lead_id: int) -> str:
    with loop.database.unit_of_work(readonly=True) as uow:
        lead = uow.session.get(Lead, lead_id)
        assert lead is not None
        return lead.contact_status


def sequences(loop: Loop, lead_id: int) -> list[tuple[str, str, str | None]]:
    with loop.database.unit_of_work(readonly=True) as uow:
        rows = uow.session.scalars(
            select(Enrollment).where(Enrollment.lead_id == lead_id).order_by(Enrollment.id)
        )
        return [(e.sequence_id, e.status, e.exit_reason) for e in rows]


def quiet_lead(loop: Loop) -> int:
    """A cold lead that never engages, 91 days on (the funnel's inactive_for is 90d)."""
    lead_id = loop.add_lead("quiet@northwind.example")
    loop.run_until_idle(max_days=60)
    loop.clock.advance(timedelta(days=91))
    return lead_id


def test_a_quiet_lead_gets_the_sunset_sequence_and_then_no_more_email(loop):
    lead_id = quiet_lead(loop)
    assert tick(loop) == (1, 0)
    assert tick(loop) == (0, 0)  # once
    cold_sent = len(loop.messages(lead_id))

    loop.run_until_idle(max_days=30)

    sunset = [m.step_id for m in loop.messages(lead_id)[cold_sent:]]
    assert sunset == ["still-interested", "best-of", "goodbye"]
    assert sequences(loop, lead_id)[-1] == ("sunset-reengagement", "exited", "unengaged")
    assert tick(loop) == (0, 1)
    assert status(loop, lead_id) == "unengaged"
    loop.clock.advance(timedelta(days=200))
    assert tick(loop) == (0, 0)  # never again: unengaged leads get no marketing email
    loop.run_until_idle(max_days=30)
    assert len(loop.messages(lead_id)) == cold_sent + 3


def test_a_click_on_the_sunset_email_keeps_the_lead(loop):
    lead_id = quiet_lead(loop)
    tick(loop)
    loop.step()
    asked = loop.messages(lead_id)[-1]
    assert asked.step_id == "still-interested"
    loop.clock.advance(timedelta(hours=3))
    click = InboundEvent(
        provider="sendgrid", type=EventType.CLICKED, provider_event_id="keep-me",
        occurred_at=loop.clock.now(), recipient=asked.to_address, our_message_id=asked.id,
        url="https://lumen-analytics.example/keep",
    )  # fmt: skip
    with loop.database.unit_of_work() as uow:
        store_events(uow.session, uow.jobs, [click], loop.clock.now())
    loop.run_until_idle(max_days=30)

    assert sequences(loop, lead_id)[-1][0] == "sunset-reengagement"
    assert sequences(loop, lead_id)[-1][2] != "unengaged"
    tick(loop)
    assert status(loop, lead_id) == "active"


def test_the_scheduler_loop_starts_the_sunset(loop):
    lead_id = quiet_lead(loop)
    scheduler = Scheduler(
        loop.database, loop.provider, loop.clock, funnel=lambda: loop.runtime.funnels.current
    )
    thread = scheduler.start_thread()
    try:
        deadline = time.monotonic() + 30
        while sequences(loop, lead_id)[-1][0] != "sunset-reengagement":
            assert time.monotonic() < deadline, "the scheduler never started the sunset"
            time.sleep(0.05)
    finally:
        scheduler.stop()
        thread.join(timeout=10)
