"""Scoring and the ladder on the shipped funnel, on SQLite and PostgreSQL: engagement
promotes leads, the new stage's sequence takes over at once, every change says why."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from nurture.ingest.events import EventType, InboundEvent
from nurture.services.engagement import store_events
from nurture.services.explain import explain_lead
from nurture.services.scheduling import Scheduler
from nurture.services.scoring import due_for_review
from nurture.services.uow import Job
from nurture.store.models import Enrollment, Message, StageChange
from tests.services.conftest import Loop, lead, site

EMAIL = "jordan.rivera@northwind.example"
# Fit A: senior (25) + product role (15) + mid-size company (20) + served country (5) = 65.
HEAD_OF_PRODUCT = {
    "title": "Head of Product",
    "country": "US",
    "attributes": {"company_size": 240, "industry": "retail"},
}


def new_cold_lead(loop: Loop, email: str = EMAIL, **fields: object) -> tuple[int, Message]:
    """A cold lead of good fit who has received the first cold email."""
    lead_id = loop.add_lead(email, **(HEAD_OF_PRODUCT | fields))
    loop.run_until_idle(max_days=1)
    [first] = loop.messages(lead_id)
    assert first.sequence_id == "cold-education"
    return lead_id, first


def email_event(loop: Loop, message: Message, kind: EventType, n: int, **fields: object) -> None:
    event = InboundEvent(
        provider="sendgrid",
        type=kind,
        provider_event_id=f"{kind}-{message.id}-{n}",
        occurred_at=loop.clock.now(),
        recipient=message.to_address,
        our_message_id=message.id,
        **fields,  # type: ignore[arg-type]
    )
    with loop.database.unit_of_work() as uow:
        store_events(uow.session, uow.jobs, [event], loop.clock.now())


def changes(loop: Loop, lead_id: int) -> list[StageChange]:
    with loop.database.unit_of_work(readonly=True) as uow:
        query = select(StageChange).where(StageChange.lead_id == lead_id)
        return list(uow.session.scalars(query.order_by(StageChange.id)))


def enrollments(loop: Loop, lead_id: int) -> list[Enrollment]:
    with loop.database.unit_of_work(readonly=True) as uow:
        query = select(Enrollment).where(Enrollment.lead_id == lead_id)
        return list(uow.session.scalars(query.order_by(Enrollment.id)))


def explain(loop: Loop, lead_id: int) -> dict[str, object]:
    with loop.database.unit_of_work(readonly=True) as uow:
        funnel = loop.runtime.funnels.current
        return explain_lead(uow.session, funnel, lead_id, loop.clock.now()).as_dict()


def page_view(path: str, n: int) -> dict[str, object]:
    return {
        "type": "page_view",
        "email": EMAIL,
        "url": f"https://lumen-analytics.example{path}",
        "event_id": f"view-{n}",
    }


class TestPromotion:
    def test_clicks_and_pricing_visits_make_a_cold_lead_warm_and_switch_its_sequence(self, loop):
        lead_id, first = new_cold_lead(loop)
        loop.clock.advance(timedelta(hours=1))
        email_event(loop, first, EventType.CLICKED, 1, url="https://lumen-analytics.example/blog")
        assert lead(loop, lead_id).stage == "cold"  # 5 points: not yet
        loop.clock.advance(timedelta(minutes=10))
        site(loop, page_view("/pricing", 1), page_view("/pricing/teams", 2))

        promoted = lead(loop, lead_id)
        assert promoted.stage == "warm"
        assert promoted.last_engaged_at == loop.clock.now()  # the pricing visits: sunset's clock
        assert promoted.fit_grade == "A" and promoted.engagement is not None
        assert promoted.engagement >= 20
        [change] = changes(loop, lead_id)
        assert (change.from_stage, change.to_stage) == ("cold", "warm")
        assert change.reason["rule"] == "warm: engagement >= 20"
        assert change.reason["kind"] == "promotion"
        top = {c["rule"]: c["points"] for c in change.reason["top"]}
        assert top["pricing-page"] == 20.0 and top["clicked-email"] == 5.0
        assert change.event_id is not None  # the pricing visit that tipped it
        cold, warm = enrollments(loop, lead_id)
        assert (cold.sequence_id, cold.status, cold.exit_reason) == (
            "cold-education", "exited", "stage changed to warm",
        )  # fmt: skip
        assert (warm.sequence_id, warm.status) == ("warm-evaluation", "active")

        # The next email is from the warm sequence, and none from the cold one follows.
        loop.run_until_idle(max_days=14)
        later = [m for m in loop.messages(lead_id) if m.id != first.id]
        assert later and {m.sequence_id for m in later} == {"warm-evaluation"}

    def test_a_warm_lead_of_good_fit_reaches_mql_on_more_engagement(self, loop):
        lead_id, first = new_cold_lead(loop)
        loop.clock.advance(timedelta(hours=1))
        email_event(loop, first, EventType.CLICKED, 1, url="https://lumen-analytics.example/blog")
        site(loop, page_view("/pricing", 1), page_view("/pricing/teams", 2))
        assert lead(loop, lead_id).stage == "warm"
        loop.clock.advance(timedelta(days=1))
        site(loop, {"type": "trial_started", "email": EMAIL, "event_id": "trial-1"})

        mql = lead(loop, lead_id)
        assert mql.stage == "mql"
        assert mql.engagement is not None and 50 <= mql.engagement < 80
        assert (
            changes(loop, lead_id)[-1].reason["rule"] == "mql: fit in [A, B] and engagement >= 50"
        )

    def test_poor_fit_stays_warm_however_engaged(self, loop):
        lead_id, _ = new_cold_lead(
            loop, "sam@gmail.com", title="Student", attributes={}, country="BR"
        )
        loop.clock.advance(timedelta(hours=1))
        site(
            loop,
            *[dict(page_view("/pricing", n), email="sam@gmail.com") for n in range(1, 5)],
            {"type": "trial_started", "email": "sam@gmail.com", "event_id": "trial-1"},
            {"type": "webinar_attended", "email": "sam@gmail.com", "event_id": "web-1"},
        )
        stuck = lead(loop, lead_id)
        assert stuck.fit_grade == "D" and stuck.engagement is not None
        assert stuck.engagement >= 50
        assert stuck.stage == "warm"


class TestHandRaisers:
    def test_a_demo_request_makes_a_cold_lead_sql_at_once(self, loop):
        lead_id, _ = new_cold_lead(loop)
        loop.clock.advance(timedelta(hours=2))
        site(loop, {"type": "demo_requested", "email": EMAIL, "event_id": "demo-1"})

        assert lead(loop, lead_id).stage == "sql"
        [change] = changes(loop, lead_id)
        assert (change.from_stage, change.to_stage) == ("cold", "sql")
        assert change.reason["kind"] == "hand_raiser"
        assert change.reason["rule"] == "hand-raiser demo-request"
        assert change.event_id is not None
        [cold] = enrollments(loop, lead_id)  # sql runs no sequence
        assert (cold.status, cold.exit_reason) == ("exited", "stage changed to sql")

    def test_the_contact_sales_form_posted_by_the_site_makes_a_lead_sql(self, loop):
        """The site posts the form's name in ``properties``; the shipped rule reads it as
        ``data: {form: contact-sales}``. Another form is an ordinary submission."""
        lead_id, _ = new_cold_lead(loop)
        other, _ = new_cold_lead(loop, "sam@acme.example")
        loop.clock.advance(timedelta(hours=2))
        site(
            loop,
            {"type": "form_submit", "email": "sam@acme.example", "event_id": "f-1",
             "properties": {"form": "newsletter"}},
            {"type": "form_submit", "email": EMAIL, "event_id": "f-2",
             "properties": {"form": "Contact-Sales"}},
        )  # fmt: skip
        assert (lead(loop, lead_id).stage, lead(loop, other).stage) == ("sql", "cold")
        [change] = changes(loop, lead_id)
        assert change.reason["rule"] == "hand-raiser contact-sales"

    def test_the_same_demo_request_does_not_lift_a_recycled_lead_again(self, loop):
        lead_id, _ = new_cold_lead(loop)
        site(loop, {"type": "demo_requested", "email": EMAIL, "event_id": "demo-1"})
        assert lead(loop, lead_id).stage == "sql"
        loop.clock.advance(timedelta(days=3))
        loop.update_lead(lead_id, stage="recycled", stage_entered_at=loop.clock.now())
        site(loop, page_view("/blog", 1))  # any new event rescores
        assert lead(loop, lead_id).stage == "recycled"
        loop.clock.advance(timedelta(days=30))
        site(loop, {"type": "demo_requested", "email": EMAIL, "event_id": "demo-2"})
        assert lead(loop, lead_id).stage == "sql"


class TestMachineEvents:
    def test_bot_opens_and_clicks_move_nothing(self, loop):
        lead_id, first = new_cold_lead(loop)
        for n in range(12):
            email_event(loop, first, EventType.OPENED, n, provider_machine="apple-mpp")
            email_event(
                loop, first, EventType.CLICKED, n, provider_machine="link-scanner",
                url="https://lumen-analytics.example/pricing",
            )  # fmt: skip
        quiet = lead(loop, lead_id)
        assert quiet.stage == "cold"
        assert quiet.engagement == 0
        assert changes(loop, lead_id) == []


class TestIdempotence:
    def test_processing_the_same_leads_again_changes_nothing_more(self, loop):
        lead_id, _ = new_cold_lead(loop)
        site(loop, page_view("/pricing", 1), page_view("/pricing/teams", 2))
        site(loop, page_view("/pricing", 1), page_view("/pricing/teams", 2))  # a retry
        before = lead(loop, lead_id)
        loop.run_job(Job("process_engagement", ([lead_id],)))
        loop.run_job(Job("process_engagement", ([lead_id],)))
        assert [c.to_stage for c in changes(loop, lead_id)] == ["warm"]
        assert lead(loop, lead_id).engagement == before.engagement
        assert [e.sequence_id for e in enrollments(loop, lead_id)] == [
            "cold-education", "warm-evaluation",
        ]  # fmt: skip


class TestDecay:
    def test_a_warm_lead_that_goes_quiet_falls_back_to_cold_without_new_events(self, loop):
        lead_id, first = new_cold_lead(loop)
        email_event(loop, first, EventType.CLICKED, 1, url="https://lumen-analytics.example/blog")
        site(loop, page_view("/pricing", 1), page_view("/pricing/teams", 2))
        warm = lead(loop, lead_id)
        assert warm.stage == "warm" and warm.score_review_at is not None
        # Nothing is due before the review time...
        loop.clock.set(warm.score_review_at - timedelta(hours=2))
        with loop.database.unit_of_work() as uow:
            assert due_for_review(uow.session, uow.jobs, loop.clock.now()) == 0
        # ...and at it, the decayed score drops the lead back to cold, saying why.
        loop.clock.set(warm.score_review_at)
        with loop.database.unit_of_work() as uow:
            assert due_for_review(uow.session, uow.jobs, loop.clock.now()) == 1
        cold = lead(loop, lead_id)
        assert cold.stage == "cold" and cold.engagement is not None and cold.engagement < 10
        fall = changes(loop, lead_id)[-1]
        assert (fall.from_stage, fall.to_stage, fall.reason["kind"]) == (
            "warm",
            "cold",
            "fall_back",
        )
        assert fall.reason["rule"] == "warm -> cold: engagement < 10"

    def test_the_scheduler_loop_runs_the_review(self, loop):
        lead_id, _ = new_cold_lead(loop)
        site(loop, page_view("/pricing", 1), page_view("/pricing/teams", 2))
        review = lead(loop, lead_id).score_review_at
        assert review is not None
        loop.clock.set(review + timedelta(minutes=1))
        scheduler = Scheduler(loop.database, loop.provider, loop.clock)
        thread = scheduler.start_thread()
        try:
            deadline = time.monotonic() + 30
            while lead(loop, lead_id).stage != "cold" and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            scheduler.stop()
            thread.join(timeout=10)
        assert lead(loop, lead_id).stage == "cold"


class TestAccountSignal:
    def test_a_second_colleague_engaging_adds_account_points_to_everyone_at_the_company(self, loop):
        ana, _ = new_cold_lead(loop, "ana@northwind.example")
        new_cold_lead(loop, "ben@northwind.example")
        cy = loop.add_lead("cy@northwind.example", **HEAD_OF_PRODUCT)  # does nothing
        site(loop, dict(page_view("/pricing", 1), email="ana@northwind.example"))
        before = lead(loop, ana).engagement
        assert before is not None

        loop.clock.advance(timedelta(days=2))
        site(loop, dict(page_view("/blog", 2), email="ben@northwind.example"))

        after = lead(loop, ana).engagement  # rescored although Ana did nothing new
        assert after is not None and after > before + 9  # +10 account points, a little decay
        account = {c["rule"]: c["points"] for c in explain(loop, cy)["score"]["contributions"]}
        assert account["account activity"] == 10.0
        assert lead(loop, cy).engagement == 10.0

    def test_a_colleague_rescored_by_its_own_job_is_not_rescored_again(self, loop):
        """Peers are sent as rescore_account_peers jobs; in a backlog a peer's own job often
        runs first, and then the peers job leaves it alone (the same work, twice)."""
        ana, _ = new_cold_lead(loop, "ana@northwind.example")
        new_cold_lead(loop, "ben@northwind.example")
        held: list[Job] = []
        run = loop.database.dispatcher
        loop.database.dispatcher = lambda job: (
            held.append(job) if job.actor == "rescore_account_peers" else run(job)
        )
        site(loop, dict(page_view("/pricing", 1), email="ana@northwind.example"))
        loop.clock.advance(timedelta(minutes=5))
        site(loop, dict(page_view("/blog", 2), email="ben@northwind.example"))
        assert [job.args[0] for job in held] == [[ana]]  # two engaged: Ana's score is stale

        loop.clock.advance(timedelta(minutes=5))
        site(loop, dict(page_view("/docs", 3), email="ana@northwind.example"))
        own = lead(loop, ana).scored_at  # her own job ran first
        loop.clock.advance(timedelta(minutes=5))
        for job in held[:1]:
            run(job)
        assert lead(loop, ana).scored_at == own  # nothing new since: left alone

        loop.clock.advance(timedelta(minutes=5))
        site(loop, dict(page_view("/careers", 4), email="ben@northwind.example"))
        for job in held[1:]:
            run(job)
        assert lead(loop, ana).scored_at != own  # Ben engaged again: Ana rescored
