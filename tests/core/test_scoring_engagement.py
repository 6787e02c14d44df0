import json
from datetime import UTC, datetime, timedelta

import pytest

from nurture.core.lead import LeadProfile
from nurture.core.scoring import FLOOR_RULE, score
from nurture.core.scoring_model import (
    Cap,
    Decay,
    EngagementRule,
    EventFilter,
    HandRaiser,
    ScoredEvent,
    ScoringModel,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LEAD = LeadProfile(email="dana@acme.io", title="Head of Product")

OPENS = EngagementRule("email opens", EventFilter("opened"), 1, cap=Cap(5, timedelta(days=7)))
GUIDE_CLICK = EngagementRule("clicked metrics guide", EventFilter("clicked", step="guide"), 10)
PRICING = EngagementRule("pricing page", EventFilter("page_view", url="*/pricing*"), 15)
CONTACT_FORM = EngagementRule(
    "contact-sales form", EventFilter("form_submitted", data={"form": "contact-sales"}), 30
)
UNSUBSCRIBED = EngagementRule("unsubscribed", EventFilter("unsubscribed"), -20)
WEBINAR = EngagementRule("webinar attended", EventFilter("webinar_attended"), 25, decays=False)


def event(id_, type_, at, **kwargs) -> ScoredEvent:
    return ScoredEvent(id=id_, type=type_, occurred_at=at, **kwargs)


def engagement(events, *rules, decay=Decay(), **kwargs):
    return score(LEAD, events, ScoringModel(engagement_rules=rules, decay=decay), NOW, **kwargs)


class TestRules:
    def test_a_click_on_the_named_step_scores_and_other_steps_do_not(self):
        card = engagement(
            [
                event(1, "clicked", NOW - DAY, step="guide"),
                event(2, "clicked", NOW - DAY, step="welcome"),
            ],
            GUIDE_CLICK,
        )
        assert card.engagement == 10.0
        assert card.contributions[0].events == 1
        assert card.contributions[0].last_event_id == 1

    def test_url_glob_matches_the_full_url_whatever_the_case(self):
        card = engagement(
            [
                event(1, "page_view", NOW - DAY, url="https://acme.example/Pricing?plan=team"),
                event(2, "page_view", NOW - DAY, url="https://acme.example/blog/pricing-tips"),
                event(3, "page_view", NOW - DAY, url="https://acme.example/careers"),
                event(4, "page_view", NOW - DAY),
            ],
            PRICING,
        )
        assert card.engagement == 30.0  # events 1 and 2: the glob says "*/pricing*"

    def test_data_filters_compare_text_case_insensitively(self):
        card = engagement(
            [
                event(1, "form_submitted", NOW - DAY, data={"form": "Contact-Sales"}),
                event(2, "form_submitted", NOW - DAY, data={"form": "newsletter"}),
                event(3, "form_submitted", NOW - DAY),
            ],
            CONTACT_FORM,
        )
        assert card.engagement == 30.0

    def test_one_event_counts_for_every_rule_it_matches(self):
        any_click = EngagementRule("any click", EventFilter("clicked"), 3)
        card = engagement([event(1, "clicked", NOW - DAY, step="guide")], GUIDE_CLICK, any_click)
        assert card.engagement == 13.0
        assert [c.rule for c in card.contributions] == ["clicked metrics guide", "any click"]

    def test_negative_points_for_an_unsubscribe(self):
        card = engagement(
            [event(1, "clicked", NOW - DAY, step="guide"), event(2, "unsubscribed", NOW)],
            GUIDE_CLICK,
            UNSUBSCRIBED,
        )
        assert card.engagement == -10.0
        assert card.contributions[0].rule == "unsubscribed"

    def test_machine_events_never_score_and_are_counted(self):
        card = engagement(
            [
                event(1, "opened", NOW - DAY, machine=True),
                event(2, "clicked", NOW - DAY, step="guide", machine=True),
                event(3, "opened", NOW - DAY),
            ],
            OPENS,
            GUIDE_CLICK,
        )
        assert card.engagement == 1.0
        assert card.machine_ignored == 2
        assert card.last_event_id == 3

    def test_events_after_now_do_not_count_yet(self):
        card = engagement([event(1, "clicked", NOW + DAY, step="guide")], GUIDE_CLICK)
        assert card.engagement == 0.0
        assert card.last_event_id is None

    def test_the_tipping_event_is_the_newest_that_scored(self):
        card = engagement(
            [
                event(1, "clicked", NOW - 2 * DAY, step="guide"),
                event(2, "delivered", NOW - DAY),  # matched no rule
                event(3, "page_view", NOW - 3 * DAY, url="https://acme.example/pricing"),
            ],
            GUIDE_CLICK,
            PRICING,
        )
        assert card.last_event_id == 1


class TestCaps:
    def test_opens_count_at_most_five_points_per_week(self):
        opens = [event(i, "opened", NOW - timedelta(hours=i)) for i in range(1, 9)]
        card = engagement(opens, OPENS)
        assert card.engagement == 5.0
        assert card.contributions[0].events == 8

    def test_the_cap_is_a_rolling_window(self):
        week_ago = NOW - timedelta(days=8)
        opens = [event(i, "opened", week_ago + timedelta(hours=i)) for i in range(5)]
        opens += [event(10 + i, "opened", NOW - timedelta(hours=i)) for i in range(3)]
        assert engagement(opens, OPENS).engagement == 8.0

    def test_an_event_counts_in_part_up_to_the_cap(self):
        downloads = EngagementRule(
            "downloads", EventFilter("download"), 2, cap=Cap(5, timedelta(days=7))
        )
        card = engagement([event(i, "download", NOW - i * DAY) for i in range(1, 4)], downloads)
        assert card.engagement == 5.0  # 2 + 2 + 1

    def test_the_cap_follows_event_time_not_list_order(self):
        opens = [event(i, "opened", NOW - timedelta(days=10 - i)) for i in range(10)]
        assert engagement(opens, OPENS).engagement == engagement(opens[::-1], OPENS).engagement

    def test_a_cap_limits_a_negative_rule_by_size(self):
        careers = EngagementRule(
            "careers page",
            EventFilter("page_view", url="*/careers*"),
            -5,
            cap=Cap(10, timedelta(days=30)),
        )
        views = [event(i, "page_view", NOW - i * DAY, url="https://x/careers") for i in range(4)]
        assert engagement(views, careers).engagement == -10.0


class TestDecay:
    HALF_LIFE = timedelta(days=30)

    @pytest.mark.parametrize(("age", "points"), [(0, 10.0), (30, 5.0), (60, 2.5), (15, 7.1)])
    def test_points_halve_every_half_life(self, age, points):
        card = engagement(
            [event(1, "clicked", NOW - age * DAY, step="guide")],
            GUIDE_CLICK,
            decay=Decay(half_life=self.HALF_LIFE),
        )
        assert card.engagement == points
        assert card.contributions[0].raw == 10.0

    @pytest.mark.parametrize(
        ("age", "points"),
        [
            (HALF_LIFE, 500.0),
            (HALF_LIFE - timedelta(hours=1), 500.5),
            (HALF_LIFE + timedelta(hours=1), 499.5),
            (2 * HALF_LIFE, 250.0),
            (3 * HALF_LIFE, 125.0),
        ],
    )
    def test_half_life_is_exact(self, age, points):
        card = engagement(
            [event(1, "clicked", NOW - age, step="guide")],
            EngagementRule("big click", EventFilter("clicked"), 1000),
            decay=Decay(half_life=self.HALF_LIFE),
        )
        assert card.engagement == points

    def test_a_rule_that_does_not_decay_keeps_its_points(self):
        card = engagement(
            [event(1, "webinar_attended", NOW - 90 * DAY)],
            WEBINAR,
            decay=Decay(half_life=self.HALF_LIFE),
        )
        assert card.engagement == 25.0

    def test_no_half_life_means_no_decay(self):
        card = engagement([event(1, "clicked", NOW - 365 * DAY, step="guide")], GUIDE_CLICK)
        assert card.engagement == 10.0


class TestFloor:
    DECAY = Decay(half_life=timedelta(days=30), floor=3.0)

    def test_a_lead_that_was_active_keeps_the_floor(self):
        card = engagement(
            [event(1, "clicked", NOW - 120 * DAY, step="guide")], GUIDE_CLICK, decay=self.DECAY
        )
        assert card.engagement == 3.0  # 10 points would have decayed to 0.6
        floor = next(c for c in card.contributions if c.rule == FLOOR_RULE)
        assert floor.points == 2.4

    def test_a_lead_never_active_stays_at_zero(self):
        card = engagement([event(1, "delivered", NOW - DAY)], GUIDE_CLICK, decay=self.DECAY)
        assert card.engagement == 0.0
        assert card.contributions == ()

    def test_negative_points_still_count_below_the_floor(self):
        card = engagement(
            [event(1, "clicked", NOW - 120 * DAY, step="guide"), event(2, "unsubscribed", NOW)],
            GUIDE_CLICK,
            UNSUBSCRIBED,
            decay=self.DECAY,
        )
        assert card.engagement == 3.0 - 20.0

    def test_the_floor_does_not_lower_a_recent_score(self):
        card = engagement([event(1, "clicked", NOW, step="guide")], GUIDE_CLICK, decay=self.DECAY)
        assert card.engagement == 10.0
        assert all(c.rule != FLOOR_RULE for c in card.contributions)


class TestCard:
    def test_contributions_largest_first_with_raw_and_decayed_points(self):
        card = engagement(
            [
                event(1, "clicked", NOW - 30 * DAY, step="guide"),
                event(2, "page_view", NOW - DAY, url="https://acme.example/pricing"),
                event(3, "opened", NOW - DAY),
            ],
            OPENS,
            GUIDE_CLICK,
            PRICING,
            decay=Decay(half_life=timedelta(days=30)),
        )
        assert [(c.rule, c.points, c.raw) for c in card.contributions] == [
            ("pricing page", 14.7, 15.0),
            ("clicked metrics guide", 5.0, 10.0),
            ("email opens", 1.0, 1.0),
        ]
        assert card.engagement == 20.6
        assert [c.rule for c in card.top(2)] == ["pricing page", "clicked metrics guide"]

    def test_hand_raisers_are_recorded_with_their_event(self):
        demo = HandRaiser(
            "demo-request", EventFilter("form_submitted", data={"form": "demo"}), "sql"
        )
        model = ScoringModel(hand_raisers=(demo,))
        events = [
            event(7, "form_submitted", NOW - DAY, data={"form": "demo"}),
            event(8, "form_submitted", NOW - DAY, data={"form": "demo"}, machine=True),
        ]
        card = score(LEAD, events, model, NOW)
        assert [(h.rule, h.stage, h.event_id) for h in card.hand_raisers] == [
            ("demo-request", "sql", 7)
        ]
        assert card.values()["hand_raiser"] is True
        assert card.values(since=NOW - DAY)["hand_raiser"] is False
        assert card.last_event_id == 7

    def test_as_dict_is_json_ready(self):
        card = engagement([event(1, "clicked", NOW, step="guide")], GUIDE_CLICK)
        document = json.loads(json.dumps(card.as_dict()))
        assert document["engagement"] == 10.0
        assert document["contributions"][0]["rule"] == "clicked metrics guide"
        assert document["last_event_id"] == 1
