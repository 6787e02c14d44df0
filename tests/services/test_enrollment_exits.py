"""The service functions engagement and scoring call: exit at once, wake a wait_for."""

from __future__ import annotations

from datetime import timedelta

from nurture.services.enrollment import exit_live_enrollments, wake_waiting


def test_exit_stops_the_live_enrollment_at_once_and_nothing_more_is_sent(loop):
    lead_id = loop.add_lead()
    loop.run_until_idle(max_days=1)

    with loop.database.unit_of_work() as uow:
        exited = exit_live_enrollments(uow.session, lead_id, "unsubscribed", loop.clock.now())
    loop.run_until_idle()

    assert exited == 1
    enrollment = loop.enrollment(lead_id)
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "unsubscribed")
    assert enrollment.next_run_at is None
    assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]


def test_exit_with_no_live_enrollment_changes_nothing(loop):
    lead_id = loop.add_lead(stage="mql")  # mql runs no sequence
    with loop.database.unit_of_work() as uow:
        assert exit_live_enrollments(uow.session, lead_id, "x", loop.clock.now()) == 0


def test_wake_makes_only_waiting_enrollments_due_now(loop):
    waiting = loop.add_lead("a@acme.example")
    while loop.enrollment(waiting).status != "waiting_for_event":
        loop.step() or loop.clock.set(loop.next_due())
    active = loop.add_lead("b@acme.example")
    before = loop.enrollment(active).next_run_at
    loop.clock.advance(timedelta(minutes=5))

    with loop.database.unit_of_work() as uow:
        woken = wake_waiting(uow.session, [waiting, active], loop.clock.now())

    assert woken == 1
    assert loop.enrollment(waiting).next_run_at == loop.clock.now()
    assert loop.enrollment(active).next_run_at == before
