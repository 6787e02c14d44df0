"""Lanes: new provider events of a lead that raised a hand (a hand-raiser rule on an email
event, such as a click on the demo link) go to process_hand_raisers, queue ``handoffs``,
never behind the engagement backlog; other leads stay with process_engagement. (The
website's path: tests/services/test_site_events.py; tracked clicks: tests/web/tracking.)"""

from __future__ import annotations

from nurture.core.scoring_model import EventFilter, HandRaiser
from nurture.ingest.events import EventType
from nurture.services.engagement import store_events
from nurture.services.uow import Job
from tests.services.test_engagement import POLICY, event, sent_lead


class TestFastLane:
    DEMO_LINK = (HandRaiser("demo-link", EventFilter("clicked", url="*/demo*"), "sql"),)

    def test_a_provider_event_a_hand_raiser_rule_matches_takes_the_fast_lane(self, loop):
        """A click on the demo link (a hand-raiser rule on an email event) is not queued
        behind the engagement backlog: its lead goes to process_hand_raisers."""
        raiser, message = sent_lead(loop)
        other, other_message = sent_lead(loop, "sam@acme.example")
        sent: list[Job] = []
        loop.database.dispatcher = sent.append
        clicks = [
            event(message, EventType.CLICKED, "c-1", url="https://l.example/demo?x=1"),
            event(other_message, EventType.CLICKED, "c-2", url="https://l.example/blog"),
        ]
        with loop.database.unit_of_work() as uow:
            now = loop.clock.now()
            store_events(uow.session, uow.jobs, clicks, now, POLICY, self.DEMO_LINK)
        assert [j for j in sent if j.actor in ("process_engagement", "process_hand_raisers")] == [
            Job("process_hand_raisers", ([raiser],)),
            Job("process_engagement", ([other],)),
        ]
