"""The backtest replay and its figures, on a generated history whose figures are known by
construction: each group of leads behaves in one way, so the report must equal the hand
count below."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from nurture.core.backtest import Contender, LeadHistory, Window, moments, replay
from nurture.core.backtest_report import Backtest, percentile
from nurture.core.ladder_expr import parse
from nurture.core.lead import LeadProfile
from nurture.core.scoring_model import (
    Decay,
    EngagementRule,
    EventFilter,
    FallBack,
    HandRaiser,
    LadderRule,
    ScoredEvent,
    ScoringModel,
)

LADDER = ("cold", "warm", "mql", "sql", "customer")
SIDE = ("recycled", "disqualified")
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
WINDOW = Window(START, END)
DAY = timedelta(days=1)

CLICK = EngagementRule("click", EventFilter("clicked"), 10, decays=False)
DEMO = HandRaiser("demo-request", EventFilter("demo_requested"), "sql")


def ladder_rule(stage: str, text: str) -> LadderRule:
    return LadderRule(stage, parse(text), text)


def model(warm: int, mql: int, version: str) -> ScoringModel:
    return ScoringModel(
        engagement_rules=(CLICK,),
        hand_raisers=(DEMO,),
        ladder=(
            ladder_rule("warm", f"engagement >= {warm}"),
            ladder_rule("mql", f"engagement >= {mql}"),
            ladder_rule("sql", "hand_raiser"),
        ),
        version=version,
    )


CURRENT = Contender("current", model(30, 60, "v-current"), "nurture.yaml")
CANDIDATE = Contender("candidate", model(20, 50, "v-candidate"), "candidate.yaml")


@dataclass(frozen=True)
class Group:
    """``size`` leads created at ``created`` + (i % 70) days, in ``start_stage``; each gets
    ``clicks`` clicks one a day from ``first_click`` days after creation (``machine``: bot
    clicks), a demo request 2 days after creation if ``demo``; the first ``won`` are marked
    won ``won_after`` days after creation."""

    name: str
    size: int
    clicks: int = 0
    demo: bool = False
    created: datetime = START
    first_click: float = 1
    start_stage: str = "cold"
    machine: bool = False
    won: int = 0
    won_after: float = 10


GROUPS = (
    Group("demo", 400, demo=True, won=100),  # SQL (and so MQL) under both, after 2 days
    Group("two clicks", 700, clicks=2, won=20),  # warm only under the candidate
    Group("three clicks", 500, clicks=3),  # warm under both
    Group("five clicks", 300, clicks=5, won=60),  # warm under current, MQL under candidate
    Group("six clicks", 200, clicks=6, won=50),  # MQL under both: day 6 current, day 5 candidate
    # Warm under both before the window: nothing entered inside it; 30 won before it.
    Group("before", 300, clicks=3, created=datetime(2025, 9, 1, tzinfo=UTC), won=30),
    Group("silent", 600, won=40),  # no events: cold under both; won ones are missed by both
    Group("after", 100, clicks=6, first_click=200),  # clicks after the window: ignored
    Group("bots", 100, clicks=6, machine=True),  # machine clicks never score
    Group("recycled", 50, clicks=3, start_stage="recycled"),  # lifted to warm by both
    Group("sql already", 50, clicks=6, start_stage="sql"),  # terminal: never moves
)


def generate() -> list[LeadHistory]:
    ids = itertools.count(1)
    event_ids = itertools.count(1)
    leads: list[LeadHistory] = []
    for group in GROUPS:
        for i in range(group.size):
            lead_id = next(ids)
            created = group.created + (i % 70) * DAY + timedelta(hours=9)
            events = [
                ScoredEvent(
                    next(event_ids),
                    "clicked",
                    created + (group.first_click + k) * DAY,
                    machine=group.machine,
                )
                for k in range(group.clicks)
            ]
            if group.demo:
                events.append(ScoredEvent(next(event_ids), "demo_requested", created + 2 * DAY))
            random.Random(lead_id).shuffle(events)  # replay must not depend on stored order
            email = f"lead{lead_id}@{group.name.replace(' ', '-')}.example"
            leads.append(
                LeadHistory(
                    lead_id=lead_id,
                    email=email,
                    profile=LeadProfile(email=email),
                    created_at=created,
                    start_stage=group.start_stage,
                    stage_now=group.start_stage,
                    events=events,
                    won_at=created + group.won_after * DAY if i < group.won else None,
                    # sales accepted every lead it later won, the day before
                    accepted_at=created + (group.won_after - 1) * DAY if i < group.won else None,
                )
            )
    return leads


@pytest.fixture(scope="module")
def report():
    backtest = Backtest((CURRENT, CANDIDATE), LADDER, WINDOW, side_stages=SIDE)
    for history in generate():
        backtest.add(history)
    return backtest.report()


class TestGeneratedHistory:
    def test_every_lead_and_every_event_up_to_the_end_is_replayed(self, report):
        assert report.leads == 3300
        # demo 400, two 1400, three 1500, five 1500, six 1200, before 900, bots 600,
        # recycled 150, sql already 300; "after" clicks fall after the window.
        assert report.events == 7950

    def test_leads_entering_each_stage_in_the_window_match_the_hand_count(self, report):
        current, candidate = report.models
        assert current.entered == {
            "cold": 0,
            "warm": 500 + 300 + 200 + 50,
            "mql": 200,
            "sql": 400,
            "customer": 0,
            "recycled": 0,
            "disqualified": 0,
        }
        assert candidate.entered == {
            "cold": 0,
            "warm": 700 + 500 + 300 + 200 + 50,
            "mql": 300 + 200,
            "sql": 400,
            "customer": 0,
            "recycled": 0,
            "disqualified": 0,
        }

    def test_stages_at_the_end_of_the_window_match_the_hand_count(self, report):
        current, candidate = report.models
        assert dict(current.final) == {
            "cold": 700 + 600 + 100 + 100,
            "warm": 500 + 300 + 300 + 50,
            "mql": 200,
            "sql": 400 + 50,
            "customer": 0,
            "recycled": 0,
            "disqualified": 0,
        }
        assert dict(candidate.final) == {
            "cold": 600 + 100 + 100,
            "warm": 700 + 500 + 300 + 50,
            "mql": 300 + 200,
            "sql": 400 + 50,
            "customer": 0,
            "recycled": 0,
            "disqualified": 0,
        }

    def test_mqls_count_hand_raisers_straight_to_sql(self, report):
        current, candidate = report.models
        assert current.mqls == 400 + 200
        assert candidate.mqls == 400 + 300 + 200
        assert current.cumulative_mqls(WINDOW)[-1][1] == 600
        assert candidate.cumulative_mqls(WINDOW)[-1][1] == 900

    def test_time_to_mql_median_and_p75(self, report):
        current, candidate = report.models
        # current: 400 x 2 days (demo), 200 x 6 days; candidate: 400 x 2, 500 x 5 days.
        assert current.median_days_to_mql == pytest.approx(2.0)
        assert current.p75_days_to_mql == pytest.approx(6.0)
        assert candidate.median_days_to_mql == pytest.approx(5.0)
        assert candidate.p75_days_to_mql == pytest.approx(5.0)

    def test_precision_and_recall_against_won(self, report):
        current, candidate = report.models
        won = 100 + 20 + 60 + 50 + 40  # the 30 won before the window are not counted
        assert report.won == won
        assert (current.won_mqls, candidate.won_mqls) == (150, 210)
        assert current.precision == pytest.approx(150 / 600)
        assert current.recall == pytest.approx(150 / won)
        assert candidate.precision == pytest.approx(210 / 900)
        assert candidate.recall == pytest.approx(210 / won)

    def test_accepted_mqls_count_the_leads_sales_accepted(self, report):
        current, candidate = report.models
        assert report.accepted == 100 + 20 + 60 + 50 + 40
        assert (current.accepted_mqls, candidate.accepted_mqls) == (150, 210)

    def test_leads_whose_stage_differs_are_listed_in_id_order(self, report):
        differences = report.differences
        assert len(differences) == 700 + 300
        assert [d.lead_id for d in differences] == sorted(d.lead_id for d in differences)
        by_pair: dict[tuple[str, str], int] = {}
        for d in differences:
            by_pair[d.stages] = by_pair.get(d.stages, 0) + 1
        assert by_pair == {("cold", "warm"): 700, ("warm", "mql"): 300}

    def test_the_json_document_carries_the_figures(self, report):
        doc = report.as_dict()
        assert doc["models"]["current"]["mqls"] == 600
        assert doc["models"]["candidate"]["days_to_mql"] == {"median": 5.0, "p75": 5.0}
        assert doc["models"]["candidate"]["precision"] == round(210 / 900, 3)
        assert doc["differences"][0].keys() == {
            "lead_id",
            "email",
            "stage_now",
            "current",
            "candidate",
        }
        assert sum(doc["models"]["current"]["mqls_by_day"].values()) == 600


class TestReplay:
    def history(self, events, **fields):
        defaults = dict(
            lead_id=1,
            email="ana@example.com",
            profile=LeadProfile(email="ana@example.com"),
            created_at=START,
            start_stage="cold",
            stage_now="cold",
            events=events,
        )
        return LeadHistory(**{**defaults, **fields})

    def test_each_move_names_the_rule_and_the_event_that_tipped_it(self):
        events = [ScoredEvent(i, "clicked", START + i * DAY) for i in range(1, 4)]
        replayed = replay(self.history(events), CURRENT.model, LADDER, END)
        [move] = replayed.moves
        assert (move.from_stage, move.to_stage, move.kind) == ("cold", "warm", "promotion")
        assert move.rule == "warm: engagement >= 30"
        assert (move.event_id, move.at) == (3, START + 3 * DAY)
        assert replayed.final_stage == "warm"

    def test_a_hand_raiser_counts_once_after_the_lead_entered_its_stage(self):
        events = [ScoredEvent(1, "demo_requested", START + DAY)]
        replayed = replay(self.history(events), CURRENT.model, LADDER, END)
        assert [(m.to_stage, m.kind, m.event_id) for m in replayed.moves] == [
            ("sql", "hand_raiser", 1)
        ]

    def test_events_before_the_lead_existed_are_weighed_at_its_creation(self):
        events = [ScoredEvent(i, "clicked", START - i * DAY) for i in range(1, 4)]
        assert moments(events, START, END) == [START]
        [move] = replay(self.history(events), CURRENT.model, LADDER, END).moves
        assert move.at == START

    def test_decay_is_seen_at_the_next_event_and_a_fall_back_applies(self):
        decaying = ScoringModel(
            engagement_rules=(EngagementRule("click", EventFilter("clicked"), 10),),
            decay=Decay(half_life=7 * DAY),
            ladder=(
                ladder_rule("warm", "engagement >= 30"),
                ladder_rule("mql", "engagement >= 90"),
            ),
            fall_back=(FallBack("warm", "cold", parse("engagement < 10"), "engagement < 10"),),
        )
        events = [ScoredEvent(i, "clicked", START + i * timedelta(hours=1)) for i in range(4)]
        events.append(ScoredEvent(9, "opened", START + 60 * DAY))  # scores nothing, moves time
        replayed = replay(self.history(events), decaying, LADDER, END)
        assert [(m.to_stage, m.kind) for m in replayed.moves] == [
            ("warm", "promotion"),
            ("cold", "fall_back"),
        ]

    def test_an_empty_model_never_moves_anyone(self):
        events = [ScoredEvent(1, "demo_requested", START + DAY)]
        replayed = replay(self.history(events, start_stage="warm"), ScoringModel(), LADDER, END)
        assert (replayed.moves, replayed.final_stage) == ((), "warm")


class TestSetup:
    def test_a_window_that_ends_before_it_starts_is_refused(self):
        with pytest.raises(ValueError, match=r"starts .* after it ends"):
            Window(END, START)

    def test_an_mql_stage_off_the_ladder_is_refused(self):
        with pytest.raises(ValueError, match="the MQL stage 'lead' is not on the ladder"):
            Backtest((CURRENT, CANDIDATE), LADDER, WINDOW, mql_stage="lead")

    def test_percentile_interpolates_between_ranks(self):
        assert percentile([], 50) is None
        assert percentile([4.0], 75) == 4.0
        assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
        assert percentile([1.0, 2.0, 3.0, 4.0], 75) == pytest.approx(3.25)

    def test_precision_is_unknown_without_any_sales_outcome(self):
        backtest = Backtest((CURRENT, CANDIDATE), LADDER, WINDOW)
        events = [ScoredEvent(1, "demo_requested", START + DAY)]
        backtest.add(
            LeadHistory(
                1, "a@example.com", LeadProfile("a@example.com"), START, "cold", "cold", events
            )
        )
        figures = backtest.report().models[0]
        assert (figures.mqls, figures.precision, figures.recall) == (1, None, None)
