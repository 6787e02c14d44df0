"""Reading handoffs for the report, on SQLite and PostgreSQL: the window, each handoff's
rule (from its stage change), its lead's source, its answers in time order, SLA columns;
then the figures computed from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nurture.core.backtest import Window
from nurture.services.handoff_report import handoff_records, read_report
from nurture.store.models import Handoff, HandoffAnswer, Lead, StageChange

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=5))
MIN = timedelta(minutes=1)
MQL_RULE = "mql: fit in [A, B] and engagement >= 50"
DEMO_RULE = "hand-raiser demo-request"


class Rows:
    """Rows written straight to the store, as the engine and sales would have left them."""

    def __init__(self, session):
        self.session = session

    def lead(self, name, source=None):
        lead = Lead(
            email=f"{name}@northwind.example",
            time_zone="UTC",
            stage="mql",
            source=source,
            created_at=T0,
            updated_at=T0,
        )
        self.session.add(lead)
        self.session.flush()
        return lead

    def handoff(self, lead, *, rule=MQL_RULE, stage="mql", owner="ana", at=T0, **fields):
        change = None
        if rule is not None:
            kind = "hand_raiser" if rule.startswith("hand-raiser") else "promotion"
            change = StageChange(
                lead_id=lead.id,
                from_stage="warm",
                to_stage=stage,
                reason={"kind": kind, "rule": rule, "top": [{"rule": "x", "points": 5}]},
                config_version="v1",
                at=at,
            )
            self.session.add(change)
            self.session.flush()
        handoff = Handoff(
            lead_id=lead.id,
            stage_change_id=change.id if change else None,
            stage=stage,
            owner=owner,
            team="sdr",
            assignment={"rule": "sdr"},
            status=fields.pop("status", "open"),
            assigned_at=at,
            created_at=at,
            updated_at=at,
            reassignments=fields.pop("reassignments", 0),
            **fields,
        )
        self.session.add(handoff)
        self.session.flush()
        return handoff

    def answer(self, handoff, outcome, after, reason=None):
        self.session.add(
            HandoffAnswer(
                handoff_id=handoff.id,
                outcome=outcome,
                reason=reason,
                answered_by="ana@lumen.example",
                via="link",
                at=handoff.assigned_at + after,
            )
        )
        handoff.status = outcome
        handoff.answered_at = handoff.answered_at or handoff.assigned_at + after
        self.session.flush()


def write_history(database):
    """ana (webinar, MQL) accepted after 4 minutes then won; ben (webinar) rejected not_now
    after an hour by ben; cy (ads, demo request, SQL) open and reminded; dee has no stage
    change; eve was handed off before the window."""
    with database.unit_of_work() as uow:
        rows = Rows(uow.session)
        ana = rows.handoff(rows.lead("ana", "webinar"))
        rows.answer(ana, "won", 3 * 24 * 60 * MIN)  # inserted first, later in time
        rows.answer(ana, "accepted", 4 * MIN)
        ben = rows.handoff(rows.lead("ben", "webinar"), owner="ben")
        rows.answer(ben, "rejected", 60 * MIN, "not_now")
        rows.handoff(
            rows.lead("cy", "ads"),
            rule=DEMO_RULE,
            stage="sql",
            owner="eli",
            remind_at=None,
            reminded_at=T0 + 60 * MIN,
            reassign_at=T0 + 120 * MIN,
            reassignments=1,
        )
        rows.handoff(rows.lead("dee"), rule=None, owner=None, at=T0 + 2 * 24 * 60 * MIN)
        eve = rows.handoff(rows.lead("eve", "ads"), at=WINDOW.start - MIN)
        rows.answer(eve, "accepted", MIN)


def test_records_carry_rule_source_owner_and_answers_in_time_order(database):
    write_history(database)

    with database.unit_of_work(readonly=True) as uow:
        records = handoff_records(uow.session, WINDOW)

    assert [(r.rule, r.source, r.owner, r.stage) for r in records] == [
        (MQL_RULE, "webinar", "ana", "mql"),
        (MQL_RULE, "webinar", "ben", "mql"),
        (DEMO_RULE, "ads", "eli", "sql"),
        (None, None, None, "mql"),
    ]
    ana, ben, cy, _ = records
    assert [(a.outcome, a.at - T0) for a in ana.answers] == [
        ("accepted", 4 * MIN),
        ("won", timedelta(days=3)),
    ]
    assert [(a.outcome, a.reason) for a in ben.answers] == [("rejected", "not_now")]
    assert ana.assigned_at == T0 and ana.assigned_at.tzinfo is not None
    assert (cy.status, cy.reminded_at, cy.reassignments) == ("open", T0 + 60 * MIN, 1)


def test_report_figures_from_the_database(database):
    write_history(database)

    report = read_report(database, WINDOW, NOW)

    total = report.total
    assert (total.handed_off, total.answered, total.accepted, total.rejected) == (4, 2, 1, 1)
    assert (total.won, total.open, total.acceptance_rate) == (1, 2, 0.5)
    assert {t.key: t.handed_off for t in report.by_rule} == {
        MQL_RULE: 2,
        DEMO_RULE: 1,
        "(no rule)": 1,
    }
    assert {t.key: t.accepted for t in report.by_source} == {
        "webinar": 1,
        "ads": 0,
        "(no source)": 0,
    }
    assert {t.key: t.acceptance_rate for t in report.by_rep} == {
        "ana": 1.0,
        "ben": 0.0,
        "eli": None,
        "(unassigned)": None,
    }
    assert [(r.reason, r.count, r.share) for r in report.reject_reasons] == [("not_now", 1, 1.0)]
    assert report.time_to_accept.median == 4 * MIN
    assert report.speed_to_lead.durations.median == 32 * MIN
    five_minutes = report.speed_to_lead.within[0]
    assert (five_minutes.answered, five_minutes.known) == (1, 4)
    assert (report.past_sla, report.reassigned, report.reassignments) == (1, 1, 1)


def test_nothing_in_the_window_gives_empty_figures(database):
    write_history(database)
    empty = Window(T0 + timedelta(days=30), T0 + timedelta(days=31))

    report = read_report(database, empty, NOW)

    assert report.total.handed_off == 0
    assert report.by_rep == () and report.reject_reasons == ()
    assert report.speed_to_lead.durations.median is None
