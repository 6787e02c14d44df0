"""Handing leads to sales on the shipped funnel (its reps, rules and SLAs), on SQLite and
PostgreSQL: who gets the lead and why, the notifications written with it, what sales'
answers do to the lead, and the SLA reminders and reassignments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.core.handoff_model import Outcome
from nurture.errors import Conflict, InvalidInput
from nurture.services.feedback import record_answer
from nurture.services.sla import sla_tick
from nurture.store.models import Enrollment, Handoff, Notification, StageChange
from tests.services.conftest import Loop, lead, site

EMAIL = "jordan.rivera@northwind.example"
FIT_A = {"title": "Head of Product", "country": "US", "attributes": {"company_size": 240}}


def mql_lead(loop: Loop, email: str = EMAIL) -> int:
    """A fit-A lead whose pricing visits, trial and download make it an MQL (55 points)."""
    lead_id = loop.add_lead(email, **FIT_A)
    pricing = "https://l.example/pricing"
    site(
        loop,
        {"type": "page_view", "email": email, "url": pricing, "event_id": f"{email}1"},
        {"type": "page_view", "email": email, "url": pricing + "/x", "event_id": f"{email}2"},
        {"type": "trial_started", "email": email, "event_id": f"{email}3"},
        {"type": "download", "email": email, "event_id": f"{email}4"},
    )  # 20 + 2 + 25 + 8 = 55
    assert lead(loop, lead_id).stage == "mql"
    return lead_id


def handoffs(loop: Loop, lead_id: int) -> list[Handoff]:
    with loop.database.unit_of_work(readonly=True) as uow:
        query = select(Handoff).where(Handoff.lead_id == lead_id).order_by(Handoff.id)
        return list(uow.session.scalars(query))


def notifications(loop: Loop, handoff_id: int) -> list[Notification]:
    with loop.database.unit_of_work(readonly=True) as uow:
        query = select(Notification).where(Notification.handoff_id == handoff_id)
        return list(uow.session.scalars(query.order_by(Notification.id)))


def answer(loop: Loop, handoff_id: int, outcome: Outcome, **kw: object) -> str:
    with loop.database.unit_of_work() as uow:
        done = record_answer(
            uow.session, uow.jobs, loop.runtime.funnels.current, handoff_id, outcome,
            loop.clock.now(), **kw,  # type: ignore[arg-type]
        )  # fmt: skip
    return done.stage


class TestHandoff:
    def test_an_mql_goes_to_an_sdr_at_work_with_the_reason_and_notifications(self, loop):
        lead_id = mql_lead(loop)  # Monday 15:00 UTC: New York and Berlin at work, LA not
        [handoff] = handoffs(loop, lead_id)
        assert (handoff.stage, handoff.team, handoff.status) == ("mql", "sdr", "open")
        assert handoff.owner == "Priya Shah"  # weight 2 of the two at work
        assert handoff.assignment["method"] == "round_robin"
        skipped = {s["rep"]: s["reason"] for s in handoff.assignment["skipped"]}
        assert "Diego Morales" in skipped and "outside working hours" in skipped["Diego Morales"]
        assert handoff.remind_at == handoff.assigned_at + timedelta(hours=4)  # 10:00 NY + 4h
        sent = notifications(loop, handoff.id)
        assert [(n.channel, n.kind, n.status) for n in sent] == [
            ("slack", "handoff", "pending"), ("email", "handoff", "pending"),
            ("webhook", "handoff", "pending"),
        ]  # fmt: skip
        assert sent[1].recipient == "priya@lumen-analytics.example"
        context = sent[0].context
        assert context["lead"]["email"] == EMAIL and context["lead"]["fit_grade"] == "A"
        assert context["reason"]["rule"] == "mql: fit in [A, B] and engagement >= 50"
        assert context["owner"]["slack_id"] == "U024BE7LH"
        assert {a["type"] for a in context["activities"]} >= {"visited", "custom:trial_started"}
        assert sorted(loop.notifications) == [n.id for n in sent]  # enqueued after commit

    def test_round_robin_shares_mqls_by_weight(self, loop):
        owners = [
            handoffs(loop, mql_lead(loop, f"lead{n}@co{n}.example"))[0].owner for n in range(6)
        ]
        assert owners.count("Priya Shah") == 4 and owners.count("Tom Becker") == 2

    def test_leads_reaching_mql_in_one_batch_get_their_own_owner_and_activities(self, loop):
        """One process_engagement job hands its leads over together: each gets its own
        handoff, a turn of the round robin, and the activities in its notification are its
        own, newest first."""
        emails = [f"lead{n}@co{n}.example" for n in range(3)]
        ids = [loop.add_lead(email, **FIT_A) for email in emails]
        pricing = "https://l.example/pricing"
        events = []
        for n, email in enumerate(emails):
            events += [
                {"type": "page_view", "email": email, "url": f"{pricing}?lead={n}",
                 "event_id": f"{email}1"},
                {"type": "page_view", "email": email, "url": f"{pricing}/x{n}",
                 "event_id": f"{email}2"},
                {"type": "trial_started", "email": email, "event_id": f"{email}3"},
                {"type": "download", "email": email, "event_id": f"{email}4"},
            ]  # fmt: skip
        site(loop, *events)
        found = [handoffs(loop, lead_id) for lead_id in ids]
        assert [len(h) for h in found] == [1, 1, 1]
        assert [h[0].owner for h in found] == ["Priya Shah", "Tom Becker", "Priya Shah"]
        for n, [handoff] in enumerate(found):
            context = notifications(loop, handoff.id)[0].context
            assert context["lead"]["email"] == emails[n]
            urls = {a["url"] for a in context["activities"] if a["url"]}
            assert urls == {f"{pricing}?lead={n}", f"{pricing}/x{n}"}


class TestFeedback:
    def test_accepting_an_mql_makes_it_sql_and_hands_it_to_an_account_executive(self, loop):
        lead_id = mql_lead(loop)
        [mql] = handoffs(loop, lead_id)
        assert answer(loop, mql.id, Outcome.ACCEPTED, by="priya@lumen-analytics.example") == "sql"
        first, second = handoffs(loop, lead_id)
        assert first.status == "accepted" and first.answered_at is not None
        assert (second.stage, second.team, second.status) == ("sql", "ae-americas", "open")
        with loop.database.unit_of_work(readonly=True) as uow:
            change = uow.session.scalars(
                select(StageChange)
                .where(StageChange.lead_id == lead_id)
                .order_by(StageChange.id.desc())
            ).first()
        assert change is not None and change.reason["rule"] == "sales accepted"
        assert change.reason["by"] == "priya@lumen-analytics.example"

    def test_rejected_not_now_recycles_the_lead_into_the_recycled_sequence(self, loop):
        lead_id = mql_lead(loop)
        [mql] = handoffs(loop, lead_id)
        assert answer(loop, mql.id, Outcome.REJECTED, reason="not_now") == "recycled"
        with loop.database.unit_of_work(readonly=True) as uow:
            live = uow.session.scalars(
                select(Enrollment).where(
                    Enrollment.lead_id == lead_id, Enrollment.status == "active"
                )
            ).all()
        assert [e.sequence_id for e in live] == ["recycled-nurture"]

    def test_a_recycled_lead_earns_its_way_back_from_fresh_engagement(self, loop):
        lead_id = mql_lead(loop)
        [mql] = handoffs(loop, lead_id)
        answer(loop, mql.id, Outcome.REJECTED, reason="not_now")
        loop.clock.advance(timedelta(days=1))
        visit = {"type": "page_view", "email": EMAIL, "url": "https://l.example/blog"}
        site(loop, visit | {"event_id": "after-1"})
        recycled = lead(loop, lead_id)
        assert recycled.stage == "recycled"  # its 55 old points do not send it straight back
        assert recycled.engagement is not None and recycled.engagement < 5
        pricing = {"type": "page_view", "email": EMAIL, "url": "https://l.example/pricing/new"}
        site(loop, pricing | {"event_id": "after-2"}, pricing | {"event_id": "after-3"})
        assert lead(loop, lead_id).stage == "warm"  # 20 new points: the ladder lifts it

    def test_bad_fit_disqualifies(self, loop):
        [mql] = handoffs(loop, lead_id := mql_lead(loop))
        assert answer(loop, mql.id, Outcome.REJECTED, reason="bad_fit") == "disqualified"
        assert lead(loop, lead_id).stage == "disqualified"

    def test_won_makes_a_customer_who_gets_no_more_nurture(self, loop):
        lead_id = mql_lead(loop)
        [mql] = handoffs(loop, lead_id)
        answer(loop, mql.id, Outcome.ACCEPTED)
        sql = handoffs(loop, lead_id)[-1]
        before = len(loop.messages(lead_id))
        assert answer(loop, sql.id, Outcome.WON, by="rachel@lumen-analytics.example") == "customer"
        loop.run_until_idle(max_days=30)
        assert len(loop.messages(lead_id)) == before

    def test_a_second_answer_is_refused_unless_it_moves_the_lead_forward(self, loop):
        [mql] = handoffs(loop, mql_lead(loop))
        answer(loop, mql.id, Outcome.REJECTED, reason="no_budget")
        with pytest.raises(Conflict, match=r"already answered 'rejected'.*that answer is final"):
            answer(loop, mql.id, Outcome.ACCEPTED)
        [other] = handoffs(loop, mql_lead(loop, "ana@other.example"))
        answer(loop, other.id, Outcome.ACCEPTED)
        with pytest.raises(Conflict, match="it can still become won or lost"):
            answer(loop, other.id, Outcome.ACCEPTED)
        answer(loop, other.id, Outcome.WON)  # forward: allowed

    def test_a_rejection_needs_a_known_reason_and_nothing_is_recorded_without_one(self, loop):
        [mql] = handoffs(loop, lead_id := mql_lead(loop))
        with pytest.raises(InvalidInput, match="one of bad_fit, not_now"):
            answer(loop, mql.id, Outcome.REJECTED, reason="meh")
        assert handoffs(loop, lead_id)[0].status == "open"
        assert lead(loop, lead_id).stage == "mql"


class TestSla:
    def test_no_answer_reminds_the_owner_then_reassigns_to_another_rep(self, loop):
        lead_id = mql_lead(loop)
        [handoff] = handoffs(loop, lead_id)
        loop.clock.set(handoff.remind_at)
        with loop.database.unit_of_work() as uow:
            counts = sla_tick(uow.session, uow.jobs, loop.runtime.funnels.current, loop.clock.now())
        assert (counts.reminded, counts.reassigned) == (1, 0)
        kinds = [(n.kind, n.channel) for n in notifications(loop, handoff.id)]
        assert ("reminder", "email") in kinds
        with loop.database.unit_of_work() as uow:
            again = sla_tick(uow.session, uow.jobs, loop.runtime.funnels.current, loop.clock.now())
        assert again.reminded == 0  # once

        loop.clock.set(handoffs(loop, lead_id)[0].reassign_at)
        with loop.database.unit_of_work() as uow:
            counts = sla_tick(uow.session, uow.jobs, loop.runtime.funnels.current, loop.clock.now())
        assert counts.reassigned == 1
        [moved] = handoffs(loop, lead_id)
        assert moved.owner not in (None, "Priya Shah") and moved.reassignments == 1
        assert moved.assignment["reassigned_from"] == "Priya Shah"
        team = [n for n in notifications(loop, handoff.id) if n.kind == "reassigned"]
        assert [n.channel for n in team] == [
            "slack"
        ]  # the team channel; email goes to the new owner
