from datetime import UTC, datetime, timedelta

import pytest

from nurture.core.ladder import NextStage, decide, needs, review_at
from nurture.core.ladder_expr import parse
from nurture.core.lead import LeadProfile
from nurture.core.scoring import score
from nurture.core.scoring_card import HandRaiserHit, ScoreCard
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

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LADDER = ("cold", "warm", "mql", "sql", "customer")


def rule(stage: str, source: str) -> LadderRule:
    return LadderRule(stage, parse(source), source)


def fall(stage: str, to: str, source: str) -> FallBack:
    return FallBack(stage, to, parse(source), source)


DEMO = HandRaiser("demo-request", EventFilter("form_submitted", data={"form": "demo"}), "sql")
PRICING_QUESTION = HandRaiser(
    "pricing-question", EventFilter("form_submitted", data={"form": "pricing"}), "mql"
)
MODEL = ScoringModel(
    engagement_rules=(EngagementRule("guide click", EventFilter("clicked"), 10),),
    decay=Decay(half_life=timedelta(days=30)),
    hand_raisers=(DEMO, PRICING_QUESTION),
    ladder=(
        rule("warm", "engagement >= 20"),
        rule("mql", "fit in [A, B] and engagement >= 50"),
        rule("sql", "hand_raiser or (fit == A and engagement >= 80)"),
    ),
    fall_back=(fall("warm", "cold", "engagement < 10"),),
)


def card(engagement=0.0, grade="C", hits=(), last_event_id=42) -> ScoreCard:
    points = {"A": 70, "B": 45, "C": 25, "D": 0}[grade]
    return ScoreCard(
        fit_points=points,
        fit_grade=grade,
        engagement=engagement,
        hand_raisers=tuple(hits),
        last_event_id=last_event_id,
    )


def demo_request(event_id=7, at=NOW - timedelta(hours=1), raiser=DEMO) -> HandRaiserHit:
    return HandRaiserHit(raiser.name, raiser.stage, event_id, at)


class TestPromotion:
    def test_a_cold_lead_with_twenty_points_becomes_warm(self):
        decision = decide("cold", card(engagement=20.0), MODEL, LADDER)
        assert decision is not None
        assert (decision.to_stage, decision.kind) == ("warm", "promotion")
        assert decision.rule == "warm: engagement >= 20"
        assert decision.event_id == 42

    def test_just_below_the_threshold_stays(self):
        assert decide("cold", card(engagement=19.9), MODEL, LADDER) is None

    def test_a_good_fit_lead_skips_warm_and_goes_straight_to_mql(self):
        decision = decide("cold", card(engagement=55.0, grade="B"), MODEL, LADDER)
        assert decision is not None
        assert decision.to_stage == "mql"
        assert decision.rule == "mql: fit in [A, B] and engagement >= 50"

    def test_a_poor_fit_lead_with_the_same_engagement_is_only_warm(self):
        decision = decide("cold", card(engagement=55.0, grade="C"), MODEL, LADDER)
        assert decision is not None
        assert decision.to_stage == "warm"

    def test_a_lead_already_at_the_earned_stage_does_not_move(self):
        assert decide("warm", card(engagement=30.0), MODEL, LADDER) is None
        assert decide("mql", card(engagement=30.0, grade="B"), MODEL, LADDER) is None


class TestHandRaisers:
    def test_a_demo_request_makes_a_cold_lead_sql_at_once(self):
        decision = decide("cold", card(hits=[demo_request()]), MODEL, LADDER)
        assert decision is not None
        assert (decision.to_stage, decision.kind) == ("sql", "hand_raiser")
        assert decision.rule == "hand-raiser demo-request"
        assert decision.event_id == 7

    def test_a_hand_raiser_from_before_the_lead_entered_its_stage_is_spent(self):
        recycled_after_demo = NOW - timedelta(minutes=30)
        decision = decide(
            "cold", card(hits=[demo_request()]), MODEL, LADDER, since=recycled_after_demo
        )
        assert decision is None

    def test_a_hand_raiser_for_a_lower_stage_does_not_move_the_lead_down(self):
        hit = demo_request(raiser=PRICING_QUESTION)
        assert decide("sql", card(hits=[hit]), MODEL, LADDER) is None
        assert decide("mql", card(hits=[hit]), MODEL, LADDER) is None

    def test_the_highest_hand_raiser_wins_and_its_first_event_is_the_reason(self):
        hits = [
            demo_request(3, NOW - 3 * DAY, PRICING_QUESTION),
            demo_request(5, NOW - 2 * DAY),
            demo_request(6, NOW - DAY),
        ]
        decision = decide("warm", card(hits=hits), MODEL, LADDER)
        assert decision is not None
        assert (decision.to_stage, decision.event_id) == ("sql", 5)

    def test_a_lower_hand_raiser_does_not_satisfy_the_sql_rule(self):
        pricing = demo_request(at=NOW - timedelta(minutes=5), raiser=PRICING_QUESTION)
        since_mql = NOW - DAY
        assert decide("mql", card(hits=[pricing]), MODEL, LADDER, since=since_mql) is None

    def test_a_score_rule_above_the_hand_raiser_stage_wins(self):
        hit = demo_request(raiser=PRICING_QUESTION)
        decision = decide("cold", card(engagement=85.0, grade="A", hits=[hit]), MODEL, LADDER)
        assert decision is not None
        assert (decision.to_stage, decision.kind) == ("sql", "promotion")


class TestFallBack:
    def test_a_warm_lead_whose_engagement_decayed_below_ten_falls_back_to_cold(self):
        decision = decide("warm", card(engagement=9.9), MODEL, LADDER)
        assert decision is not None
        assert (decision.to_stage, decision.kind) == ("cold", "fall_back")
        assert decision.rule == "warm -> cold: engagement < 10"
        assert decision.event_id is None

    def test_hysteresis_a_warm_lead_between_ten_and_twenty_stays_warm(self):
        assert decide("warm", card(engagement=10.0), MODEL, LADDER) is None
        assert decide("warm", card(engagement=15.0), MODEL, LADDER) is None
        assert decide("cold", card(engagement=15.0), MODEL, LADDER) is None

    def test_an_mql_never_falls_back_by_score_without_a_fall_back_rule(self):
        assert decide("mql", card(engagement=0.0, grade="D"), MODEL, LADDER) is None

    def test_sql_and_customer_are_terminal_even_with_a_fall_back_configured(self):
        model = ScoringModel(
            ladder=MODEL.ladder,
            hand_raisers=MODEL.hand_raisers,
            fall_back=(fall("sql", "mql", "engagement < 5"), fall("customer", "cold", "fit == D")),
        )
        assert decide("sql", card(engagement=0.0), model, LADDER) is None
        assert decide("customer", card(engagement=0.0, grade="D"), model, LADDER) is None


class TestSideStages:
    def test_a_recycled_lead_is_lifted_by_any_rule_that_holds(self):
        decision = decide("recycled", card(engagement=25.0), MODEL, LADDER)
        assert decision is not None
        assert decision.to_stage == "warm"
        decision = decide("recycled", card(engagement=60.0, grade="A"), MODEL, LADDER)
        assert decision is not None
        assert decision.to_stage == "mql"

    def test_a_recycled_lead_with_nothing_new_stays_recycled(self):
        assert decide("recycled", card(engagement=5.0), MODEL, LADDER) is None

    def test_a_disqualified_lead_never_moves_by_score(self):
        hot = card(engagement=99.0, grade="A", hits=[demo_request()])
        assert decide("disqualified", hot, MODEL, LADDER) is None


class TestNeeds:
    def test_a_cold_lead_needs_points_for_warm_or_a_hand_raiser(self):
        next_stage = needs("cold", card(engagement=8.0), MODEL, LADDER)
        assert next_stage == NextStage(
            "warm",
            (("12 more engagement points",), ("a hand-raiser (demo-request or pricing-question)",)),
        )
        assert next_stage.text() == (
            "needs 12 more engagement points, or a hand-raiser (demo-request or pricing-question)"
        )

    def test_a_warm_lead_needs_fit_and_points_for_mql(self):
        next_stage = needs("warm", card(engagement=38.0, grade="C"), MODEL, LADDER)
        assert next_stage is not None
        assert next_stage.text() == (
            "needs fit grade A or B (now C) and 12 more engagement points, "
            "or a hand-raiser (demo-request or pricing-question)"
        )

    def test_only_the_demo_request_leads_on_from_mql(self):
        next_stage = needs("mql", card(engagement=60.0, grade="B"), MODEL, LADDER)
        assert next_stage is not None
        assert next_stage.stage == "sql"
        assert next_stage.alternatives == (
            ("a hand-raiser (demo-request)",),
            ("fit grade A (now B)", "20 more engagement points"),
        )

    def test_nothing_leads_on_from_a_terminal_or_disqualified_stage(self):
        assert needs("sql", card(), MODEL, LADDER) is None
        assert needs("disqualified", card(), MODEL, LADDER) is None


class TestReviewAt:
    LEAD = LeadProfile(email="dana@acme.io")

    def clicks(self, *days_ago):
        return [ScoredEvent(i, "clicked", NOW - d * DAY) for i, d in enumerate(days_ago)]

    def test_a_warm_lead_is_reviewed_when_decay_takes_it_below_ten(self):
        events = self.clicks(0, 0)  # 20 points now: 10 in 30 days, 9.9 (< 10) a few hours on
        at = review_at("warm", self.LEAD, events, MODEL, NOW, ladder=LADDER)
        assert at is not None
        assert NOW + 30 * DAY < at < NOW + 31 * DAY
        assert self.falls_back(events, at)
        assert not self.falls_back(events, at - timedelta(hours=1))

    def falls_back(self, events, at) -> bool:
        decision = decide("warm", score(self.LEAD, events, MODEL, at), MODEL, LADDER)
        return decision is not None and decision.kind == "fall_back"

    def test_without_the_ladder_the_fall_back_expression_alone_decides(self):
        events = self.clicks(0, 0)
        with_ladder = review_at("warm", self.LEAD, events, MODEL, NOW, ladder=LADDER)
        assert review_at("warm", self.LEAD, events, MODEL, NOW) == with_ladder

    def test_a_lead_that_already_qualifies_for_the_fall_back_is_due_now(self):
        events = self.clicks(40)
        assert review_at("warm", self.LEAD, events, MODEL, NOW, ladder=LADDER) == NOW

    @pytest.mark.parametrize("stage", ["cold", "mql", "sql", "disqualified"])
    def test_stages_without_a_fall_back_are_never_reviewed(self, stage):
        events = self.clicks(0, 0)
        assert review_at(stage, self.LEAD, events, MODEL, NOW, ladder=LADDER) is None

    def test_a_floor_above_the_fall_back_line_means_never(self):
        model = ScoringModel(
            engagement_rules=MODEL.engagement_rules,
            decay=Decay(half_life=timedelta(days=30), floor=12.0),
            ladder=MODEL.ladder,
            fall_back=MODEL.fall_back,
        )
        events = self.clicks(0, 0)
        assert review_at("warm", self.LEAD, events, model, NOW, ladder=LADDER) is None
