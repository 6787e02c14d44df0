"""A lead who paused its emails (the unsubscribe page's "pause for 30 days") stays in its
sequence and receives the next step only once the pause is over, inside its send window."""

from __future__ import annotations

from datetime import timedelta


def test_a_paused_lead_gets_its_next_email_only_after_the_pause(loop):
    lead_id = loop.add_lead()
    loop.run_until_idle(max_days=1)  # the welcome email
    paused_until = loop.clock.now() + timedelta(days=30)
    loop.update_lead(lead_id, paused_until=paused_until)

    loop.run_until_idle(max_days=29)

    assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]
    enrollment = loop.enrollment(lead_id)
    assert enrollment.status == "active" and enrollment.next_run_at >= paused_until

    loop.run_until_idle(max_days=10)

    later = loop.messages(lead_id)[1:]
    assert later and all(m.created_at >= paused_until for m in later)
