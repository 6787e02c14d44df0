"""Website events and identity stitching, driven through the sending loop on SQLite and
PostgreSQL: anonymous visits join the lead a form submit identifies, later visits of that
visitor are the lead's at once, and a sequence's ``wait_for`` on a site event wakes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from nurture.core.clock import FrozenClock
from nurture.core.sequence import AwaitEvent, Exit, Sequence, Step
from nurture.mail.providers import MemoryProvider
from nurture.runtime import FunnelHolder, Runtime
from nurture.services.site_event_input import SiteEventIn, parse_events
from nurture.services.site_events import RequestMeta, SiteCounts, record_site_events
from nurture.services.uow import Job
from nurture.settings import Settings
from nurture.store.models import Event, Lead, Visitor
from tests.services.conftest import MONDAY_9AM_CHICAGO, Loop
from tests.support import API_KEY, shipped_runtime, small_funnel

VID = "vid-0123456789abcdef"
EMAIL = "sam@acme.example"


def pricing_funnel():
    """Cold leads wait up to 3 days for a look at the pricing page."""
    sequence = Sequence(
        id="pricing-watch",
        stages=("cold",),
        steps=(
            Step(
                "wait-pricing",
                AwaitEvent(
                    event="custom:pricing_viewed",
                    timeout=timedelta(days=3),
                    on_event="saw-pricing",
                    on_timeout="no-pricing",
                ),
            ),
            Step("saw-pricing", Exit("saw pricing")),
            Step("no-pricing", Exit("no pricing")),
        ),
    )
    return dataclasses.replace(
        small_funnel(),
        sequences={sequence.id: sequence},
        stage_sequences={"cold": sequence.id},
    )


@pytest.fixture
def loop(database, tmp_path: Path) -> Loop:
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    provider = MemoryProvider()
    runtime = Runtime(
        settings=Settings(api_keys=API_KEY, secret_key="s" * 32, var_dir=tmp_path),
        database=database,
        funnels=FunnelHolder(Path(), pricing_funnel()),
        provider=provider,
        clock=clock,
    )
    harness = Loop(runtime, clock, provider)
    database.dispatcher = harness.run_job
    return harness


def post(loop: Loop, *raw: dict[str, object], sent: list[Job] | None = None) -> SiteCounts:
    now = loop.clock.now()
    events: list[SiteEventIn] = parse_events(list(raw), now, max_items=1000, public=False)
    with loop.database.unit_of_work() as uow:
        counts = record_site_events(
            uow.session,
            uow.jobs,
            loop.runtime.funnels.current,
            events,
            now=now,
            source="website",
            meta=RequestMeta(),
            default_time_zone="UTC",
        )
        if sent is not None:
            sent.extend(uow.jobs.pending)
    return counts


def events(loop: Loop) -> list[Event]:
    with loop.database.unit_of_work(readonly=True) as uow:
        return list(uow.session.scalars(select(Event).order_by(Event.id)))


def lead_of(loop: Loop, email: str = EMAIL) -> int:
    with loop.database.unit_of_work(readonly=True) as uow:
        found = uow.session.scalar(select(Lead.id).where(Lead.email == email))
    assert found is not None
    return found


def visitor(loop: Loop) -> Visitor | None:
    with loop.database.unit_of_work(readonly=True) as uow:
        return uow.session.get(Visitor, VID)


class TestStitching:
    def test_a_form_submit_joins_the_visitors_earlier_page_views_to_the_lead(self, loop):
        # Given two anonymous page views of one browser
        for path in ("/", "/pricing"):
            counts = post(
                loop, {"type": "page_view", "visitor_id": VID, "url": f"https://x.example{path}"}
            )
            assert counts.anonymous == 1
            loop.clock.advance(timedelta(minutes=1))
        # When the visitor submits a form with an email
        sent: list[Job] = []
        post(loop, {"type": "form_submit", "visitor_id": VID, "email": EMAIL}, sent=sent)
        # Then a lead is made and all three events are its own
        lead_id = lead_of(loop)
        assert [(e.type, e.lead_id) for e in events(loop)] == [
            ("visited", lead_id),
            ("visited", lead_id),
            ("submitted", lead_id),
        ]
        found = visitor(loop)
        assert found is not None
        assert (found.lead_id, found.first_seen_at) == (lead_id, MONDAY_9AM_CHICAGO)
        assert Job("process_engagement", ([lead_id],)) in sent

    def test_later_anonymous_visits_of_an_identified_visitor_are_the_leads_at_once(self, loop):
        post(loop, {"type": "form_submit", "visitor_id": VID, "email": EMAIL})
        loop.clock.advance(timedelta(days=1))
        counts = post(loop, {"type": "page_view", "visitor_id": VID})
        assert counts.anonymous == 0
        assert {e.lead_id for e in events(loop)} == {lead_of(loop)}
        found = visitor(loop)
        assert found is not None and found.last_seen_at == loop.clock.now()

    def test_events_already_of_a_lead_stay_with_it_when_the_browser_changes_hands(self, loop):
        post(loop, {"type": "form_submit", "visitor_id": VID, "email": EMAIL})
        first = lead_of(loop)
        loop.clock.advance(timedelta(hours=1))
        post(loop, {"type": "form_submit", "visitor_id": VID, "email": "kim@acme.example"})
        loop.clock.advance(timedelta(hours=1))
        post(loop, {"type": "page_view", "visitor_id": VID})
        owners = [e.lead_id for e in events(loop)]
        assert owners[0] == first
        assert owners[1] == owners[2] != first  # the latest identification wins from now on

    def test_anonymous_events_without_an_identification_stay_anonymous(self, loop):
        post(loop, {"type": "page_view", "visitor_id": VID})
        post(loop, {"type": "page_view", "visitor_id": "other-visitor-0001", "email": EMAIL})
        assert [e.lead_id for e in events(loop)] == [None, None]  # a page view makes no lead


class TestWaitForSiteEvent:
    def waiting_lead(self, loop) -> int:
        lead_id = loop.add_lead(EMAIL)
        loop.step()
        enrollment = loop.enrollment(lead_id)
        assert enrollment.status == "waiting_for_event"
        assert enrollment.next_run_at == loop.clock.now() + timedelta(days=3)
        return lead_id

    def test_a_pricing_view_wakes_the_wait_and_takes_the_event_branch(self, loop):
        lead_id = self.waiting_lead(loop)
        loop.clock.advance(timedelta(hours=2))
        post(loop, {"type": "pricing_viewed", "email": EMAIL})
        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()
        loop.step()
        done = loop.enrollment(lead_id)
        assert (done.status, done.exit_reason) == ("exited", "saw pricing")

    def test_a_stitched_anonymous_pricing_view_wakes_it_too(self, loop):
        lead_id = self.waiting_lead(loop)
        loop.clock.advance(timedelta(hours=2))
        post(loop, {"type": "pricing_viewed", "visitor_id": VID})
        assert loop.enrollment(lead_id).next_run_at > loop.clock.now()  # nobody's yet
        loop.clock.advance(timedelta(minutes=5))
        post(loop, {"type": "form_submit", "visitor_id": VID, "email": EMAIL})
        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()
        loop.step()
        assert loop.enrollment(lead_id).exit_reason == "saw pricing"

    def test_without_the_event_the_wait_times_out(self, loop):
        lead_id = self.waiting_lead(loop)
        post(loop, {"type": "download", "email": EMAIL})
        loop.run_until_idle(max_days=5)
        assert loop.enrollment(lead_id).exit_reason == "no pricing"


@pytest.fixture
def shipped(database, tmp_path: Path) -> Loop:
    """The sending loop over the shipped example funnel (hand-raisers and all)."""
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    provider = MemoryProvider()
    harness = Loop(shipped_runtime(database, tmp_path, provider, clock), clock, provider)
    database.dispatcher = harness.run_job
    return harness


class TestShippedFunnel:
    def test_the_websites_demo_form_makes_a_warm_lead_sql_and_ends_its_sequence(self, shipped):
        # Given a warm lead waiting for a click on the buyer's guide
        lead_id = shipped.add_lead(EMAIL, stage="warm")
        while shipped.enrollment(lead_id).status != "waiting_for_event":
            shipped.step() or shipped.clock.set(shipped.next_due())
        assert shipped.enrollment(lead_id).sequence_id == "warm-evaluation"
        # When the website posts the demo request
        shipped.clock.advance(timedelta(hours=1))
        post(shipped, {"type": "demo_requested", "email": EMAIL, "visitor_id": VID})
        shipped.step()
        # Then the hand-raiser makes the lead SQL at once and the warm sequence stops
        done = shipped.enrollment(lead_id)
        assert (done.status, done.exit_reason) == ("exited", "stage changed to sql")
        with shipped.database.unit_of_work(readonly=True) as uow:
            lead = uow.session.get(Lead, lead_id)
            assert lead is not None and lead.stage == "sql"


class TestFastLane:
    """Leads that raised a hand go to process_hand_raisers (queue ``handoffs``) on their own;
    everyone else stays with process_engagement."""

    def test_a_demo_request_is_enqueued_apart_from_the_batchs_page_views(self, shipped):
        # Given two leads
        browsing = shipped.add_lead("pat@acme.example")
        raising = shipped.add_lead(EMAIL)
        # When one batch carries page views of one and a demo request of the other
        sent: list[Job] = []
        post(
            shipped,
            {"type": "page_view", "email": "pat@acme.example", "url": "https://x.example/"},
            {"type": "demo_requested", "email": EMAIL},
            {"type": "pricing_viewed", "email": "pat@acme.example"},
            sent=sent,
        )
        # Then the hand-raiser has a job of its own on the fast lane
        assert sent == [
            Job("process_hand_raisers", ([raising],)),
            Job("process_engagement", ([browsing],)),
        ]

    def test_a_hand_raiser_made_lead_by_its_form_goes_to_the_fast_lane(self, shipped):
        sent: list[Job] = []
        post(shipped, {"type": "demo_requested", "email": EMAIL}, sent=sent)
        assert sent == [Job("process_hand_raisers", ([lead_of(shipped)],))]

    def test_a_crawlers_demo_request_is_no_hand_raiser(self, shipped):
        lead_id = shipped.add_lead(EMAIL)
        sent: list[Job] = []
        crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        post(shipped, {"type": "demo_requested", "email": EMAIL, "user_agent": crawler}, sent=sent)
        assert sent == [Job("process_engagement", ([lead_id],))]

    def test_the_fast_lane_hands_the_lead_off(self, shipped):
        # Given a cold lead; when it requests a demo and its fast-lane job runs
        lead_id = shipped.add_lead(EMAIL)
        shipped.clock.advance(timedelta(hours=1))
        post(shipped, {"type": "demo_requested", "email": EMAIL})
        # Then it is SQL, with a notification waiting to be delivered
        with shipped.database.unit_of_work(readonly=True) as uow:
            lead = uow.session.get(Lead, lead_id)
            assert lead is not None and lead.stage == "sql"
        assert shipped.notifications

    def test_a_funnel_without_hand_raisers_uses_only_the_engagement_lane(self, loop):
        sent: list[Job] = []
        post(loop, {"type": "demo_requested", "email": EMAIL}, sent=sent)
        assert [job.actor for job in sent] == ["process_engagement"]
