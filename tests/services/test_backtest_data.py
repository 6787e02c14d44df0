"""Reading lead histories for a backtest, on SQLite and PostgreSQL: who is replayed, which
events (up to the end, with their step, data only where a rule reads it), the stage a lead
was created in, when it was won, account activity, and batches in id order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from nurture.core.scoring_model import (
    AccountActivity,
    AccountSignal,
    EngagementRule,
    EventFilter,
    HandRaiser,
    ScoringModel,
)
from nurture.services.backtest_data import count_leads, lead_histories
from nurture.store.models import (
    Account,
    Enrollment,
    Event,
    Handoff,
    HandoffAnswer,
    Lead,
    Message,
    StageChange,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
END = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
DAY = timedelta(days=1)
CLICKS = ScoringModel(engagement_rules=(EngagementRule("click", EventFilter("clicked"), 5),))
FORMS = ScoringModel(
    hand_raisers=(HandRaiser("contact", EventFilter("submitted", data={"form": "sales"}), "sql"),),
    account=AccountSignal(min_contacts=2, window=14 * DAY, points=10),
)


class History:
    """Rows written straight to the store, as the engine would have left them."""

    def __init__(self, session):
        self.session = session
        self.ids = itertools.count(1)

    def lead(self, email, stage="cold", created=T0, account=None, **fields):
        lead = Lead(
            email=email,
            time_zone="UTC",
            stage=stage,
            account_id=account.id if account else None,
            created_at=created,
            updated_at=created,
            **fields,
        )
        self.session.add(lead)
        self.session.flush()
        return lead

    def answer(self, lead, stage, answers):
        """A handoff of ``lead`` at ``stage`` and sales' answers to it."""
        handoff = Handoff(
            lead_id=lead.id, stage=stage, owner="Priya", team="sdr", assignment={},
            status=answers[-1][0], assigned_at=T0, reassignments=0, created_at=T0, updated_at=T0,
        )  # fmt: skip
        self.session.add(handoff)
        self.session.flush()
        for outcome, at in answers:
            self.session.add(
                HandoffAnswer(handoff_id=handoff.id, outcome=outcome, via="api", at=at)
            )
        self.session.flush()

    def account(self, domain, **attributes):
        account = Account(domain=domain, attributes=attributes, created_at=T0, updated_at=T0)
        self.session.add(account)
        self.session.flush()
        return account

    def message(self, lead, step):
        enrollment = Enrollment(
            lead_id=lead.id,
            sequence_id="cold-education",
            stage="cold",
            status="active",
            config_version="v1",
            started_at=T0,
            updated_at=T0,
        )
        self.session.add(enrollment)
        self.session.flush()
        message = Message(
            enrollment_id=enrollment.id,
            lead_id=lead.id,
            sequence_id="cold-education",
            step_id=step,
            config_version="v1",
            to_address=lead.email,
            subject="Hello",
            status="sent",
            created_at=T0,
            updated_at=T0,
        )
        self.session.add(message)
        self.session.flush()
        return message

    def event(self, lead, kind, at, **fields):
        event = Event(
            lead_id=lead.id,
            type=kind,
            source="test",
            source_event_id=f"e{next(self.ids)}",
            occurred_at=at,
            received_at=at,
            **fields,
        )
        self.session.add(event)
        self.session.flush()
        return event

    def change(self, lead, from_stage, to_stage, at):
        self.session.add(
            StageChange(
                lead_id=lead.id,
                from_stage=from_stage,
                to_stage=to_stage,
                config_version="v1",
                at=at,
            )
        )
        self.session.flush()


@pytest.fixture
def stored(database):
    """Five leads: ana (clicks, one on a step, one by a bot, one after the end), ben
    (created warm by import, later moved and won), cy (created after the end), dee and
    eve (one account; eve's form carries data)."""
    with database.unit_of_work() as uow:
        h = History(uow.session)
        ana = h.lead("ana@northwind.example", title="Head of Product")
        message = h.message(ana, "soft-ask")
        h.event(ana, "clicked", T0 + DAY, message_id=message.id, url="https://x.example/a")
        h.event(ana, "opened", T0 + 2 * DAY, machine=True)
        h.event(ana, "clicked", END + DAY)
        ben = h.lead("ben@contoso.example", stage="customer", created=T0 + DAY)
        h.change(ben, "warm", "mql", T0 + 5 * DAY)
        h.change(ben, "mql", "sql", T0 + 6 * DAY)
        h.change(ben, "sql", "customer", T0 + 40 * DAY)
        h.answer(ben, "mql", [("rejected", T0 + 5 * DAY), ("accepted", T0 + 5 * DAY + DAY / 2)])
        h.lead("cy@later.example", created=END + DAY)
        acme = h.account("acme.example", industry="retail")
        dee = h.lead("dee@acme.example", stage="warm", account=acme)
        eve = h.lead("eve@acme.example", account=acme)
        h.event(dee, "visited", T0 + 3 * DAY, data={"path": "/pricing"})
        h.event(eve, "submitted", T0 + 4 * DAY, data={"form": "sales"})
        h.event(eve, "delivered", T0 + 4 * DAY)  # delivery: not account activity
    return database


def histories(database, models, **kwargs):
    return [
        h
        for batch in lead_histories(database, models, END, initial_stage="cold", **kwargs)
        for h in batch
    ]


class TestLeadHistories:
    def test_every_lead_created_before_the_end_is_read_in_id_order(self, stored):
        found = histories(stored, [CLICKS])
        assert [h.email for h in found] == [
            "ana@northwind.example",
            "ben@contoso.example",
            "dee@acme.example",
            "eve@acme.example",
        ]
        with stored.unit_of_work(readonly=True) as uow:
            assert count_leads(uow.session, END) == 4

    def test_events_up_to_the_end_with_their_step_and_machine_flag(self, stored):
        ana = histories(stored, [CLICKS])[0]
        events = sorted(ana.events, key=lambda e: e.occurred_at)
        assert [(e.type, e.step, e.machine, e.url) for e in events] == [
            ("clicked", "soft-ask", False, "https://x.example/a"),
            ("opened", None, True, None),
        ]
        assert ana.profile.title == "Head of Product"
        assert ana.created_at == T0

    def test_data_is_read_only_for_types_a_rule_filters_on_by_data(self, stored):
        eve_plain = histories(stored, [CLICKS])[3]
        assert all(e.data == {} for e in eve_plain.events)
        eve = histories(stored, [CLICKS, FORMS])[3]
        forms = [e for e in eve.events if e.type == "submitted"]
        assert [e.data for e in forms] == [{"form": "sales"}]
        dee = histories(stored, [CLICKS, FORMS])[2]
        assert [e.data for e in dee.events] == [{}]  # visited: no rule reads its data

    def test_the_start_stage_is_the_first_changes_from_stage_else_the_stage_now(self, stored):
        ana, ben, dee, _ = histories(stored, [CLICKS])
        assert (ana.start_stage, ana.stage_now) == ("cold", "cold")
        assert (ben.start_stage, ben.stage_now) == ("warm", "customer")
        assert dee.start_stage == "warm"

    def test_won_is_the_first_real_change_to_the_won_stage(self, stored):
        ana, ben, *_ = histories(stored, [CLICKS])
        assert ana.won_at is None
        assert ben.won_at == T0 + 40 * DAY
        _, ben_sql, *_ = histories(stored, [CLICKS], won_stage="sql")
        assert ben_sql.won_at == T0 + 6 * DAY

    def test_accepted_is_when_sales_first_accepted_one_of_its_handoffs(self, stored):
        ana, ben, *_ = histories(stored, [CLICKS])
        assert ana.accepted_at is None
        assert ben.accepted_at == T0 + 5 * DAY + DAY / 2  # the rejection before it: not that

    def test_account_activity_is_read_only_when_a_model_has_an_account_signal(self, stored):
        *_, dee, eve = histories(stored, [CLICKS])
        assert (dee.account_activity, dee.account_attributes) == ([], {"industry": "retail"})
        *_, dee, eve = histories(stored, [CLICKS, FORMS])
        activity = sorted(dee.account_activity, key=lambda a: a.occurred_at)
        assert activity == [
            AccountActivity(dee.lead_id, T0 + 3 * DAY),
            AccountActivity(eve.lead_id, T0 + 4 * DAY),
        ]
        assert eve.account_activity == dee.account_activity

    def test_batches_follow_each_other_in_id_order(self, stored):
        batches = list(lead_histories(stored, [CLICKS], END, initial_stage="cold", batch=3))
        assert [[h.email.split("@")[0] for h in batch] for batch in batches] == [
            ["ana", "ben", "dee"],
            ["eve"],
        ]
