"""identify_visitor, the service behind a click from one of our emails landing on our site,
on SQLite and PostgreSQL: the visitor's earlier anonymous events join the lead, its wait
wakes and it is processed after commit, just as after a form submit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nurture.errors import NotFound
from nurture.services.uow import Job
from nurture.services.visitors import identify_visitor
from tests.services.conftest import Loop
from tests.services.test_site_events import EMAIL, VID, events, loop, post, visitor

__all__ = ["loop"]  # the fixture, shared with the form-submit tests


def identify(loop: Loop, lead_id: int, sent: list[Job] | None = None) -> bool:
    with loop.database.unit_of_work() as uow:
        joined = identify_visitor(uow.session, uow.jobs, VID, lead_id, loop.clock.now())
        if sent is not None:
            sent.extend(uow.jobs.pending)
    return joined


class TestIdentifyVisitor:
    def test_earlier_anonymous_events_join_the_lead_and_it_is_processed(self, loop):
        lead_id = loop.add_lead(EMAIL)
        post(loop, {"type": "page_view", "visitor_id": VID, "url": "https://x.example/"})
        sent: list[Job] = []

        assert identify(loop, lead_id, sent) is True

        assert [e.lead_id for e in events(loop)] == [lead_id]
        found = visitor(loop)
        assert found is not None and found.lead_id == lead_id
        assert [job for job in sent if job.actor == "process_engagement"] == [
            Job("process_engagement", ([lead_id],))
        ]

    def test_a_visitor_with_nothing_to_join_is_remembered_without_a_job(self, loop):
        lead_id = loop.add_lead(EMAIL)
        sent: list[Job] = []

        assert identify(loop, lead_id, sent) is False

        found = visitor(loop)
        assert found is not None and found.lead_id == lead_id
        assert sent == []
        post(loop, {"type": "page_view", "visitor_id": VID})
        assert [e.lead_id for e in events(loop)] == [lead_id]

    def test_a_stitched_pricing_view_wakes_the_leads_wait(self, loop):
        lead_id = loop.add_lead(EMAIL)
        loop.step()
        assert loop.enrollment(lead_id).status == "waiting_for_event"
        loop.clock.advance(timedelta(hours=2))
        post(loop, {"type": "pricing_viewed", "visitor_id": VID})

        identify(loop, lead_id)

        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()
        loop.step()
        assert loop.enrollment(lead_id).exit_reason == "saw pricing"

    def test_a_lead_that_is_gone_is_refused_and_nothing_is_stored(self, loop):
        post(loop, {"type": "page_view", "visitor_id": VID})

        with pytest.raises(NotFound):
            identify(loop, 999_999)

        assert [e.lead_id for e in events(loop)] == [None]
        found = visitor(loop)
        assert found is not None and found.lead_id is None
