from datetime import UTC, datetime, timedelta

from nurture.core.lead import LeadProfile
from nurture.core.scoring import score
from nurture.core.scoring_model import (
    Decay,
    EventFilter,
    Pattern,
    PatternKind,
    ScoredEvent,
    ScoringModel,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
LEAD = LeadProfile(email="dana@acme.io")

PRICING_VIEWS = EventFilter("page_view", url="*/pricing*")
REPEAT_PRICING = Pattern(
    "came back to pricing 3 times in a week",
    PatternKind.REPEAT_VISITS,
    20,
    count=3,
    within=timedelta(days=7),
    match=PRICING_VIEWS,
)
BUSY_DAY = Pattern("3 visits in a day", PatternKind.SESSIONS, 15, count=3, within=DAY, match=None)
COMEBACK = Pattern("back after 3 months", PatternKind.COMEBACK, 25, quiet_for=timedelta(days=90))


def view(id_, at, url="https://acme.example/pricing") -> ScoredEvent:
    return ScoredEvent(id=id_, type="page_view", occurred_at=at, url=url)


def patterns(events, *rules, decay=Decay()):
    return score(LEAD, events, ScoringModel(patterns=rules, decay=decay), NOW)


class TestRepeatVisits:
    def test_three_pricing_views_in_a_week_score_once(self):
        card = patterns([view(i, NOW - i * DAY) for i in range(3)], REPEAT_PRICING)
        assert card.engagement == 20.0
        (contribution,) = card.contributions
        assert (contribution.kind, contribution.events, contribution.last_event_id) == (
            "pattern",
            1,
            0,
        )

    def test_counting_starts_afresh_after_the_pattern_completes(self):
        five = patterns([view(i, NOW - i * HOUR) for i in range(5)], REPEAT_PRICING)
        six = patterns([view(i, NOW - i * HOUR) for i in range(6)], REPEAT_PRICING)
        assert five.engagement == 20.0
        assert six.engagement == 40.0

    def test_views_spread_over_more_than_the_window_do_not_count(self):
        card = patterns([view(i, NOW - i * 4 * DAY) for i in range(3)], REPEAT_PRICING)
        assert card.engagement == 0.0
        assert card.contributions == ()

    def test_other_pages_do_not_count(self):
        events = [view(i, NOW - i * HOUR, url="https://acme.example/blog") for i in range(3)]
        assert patterns(events, REPEAT_PRICING).engagement == 0.0

    def test_any_engagement_when_no_filter_but_not_deliveries_or_bots(self):
        any_three = Pattern("busy lead", PatternKind.REPEAT_VISITS, 10, count=3, within=DAY)
        events = [
            ScoredEvent(1, "delivered", NOW - 3 * HOUR),
            ScoredEvent(2, "opened", NOW - 2 * HOUR, machine=True),
            ScoredEvent(3, "opened", NOW - HOUR),
            ScoredEvent(4, "clicked", NOW - HOUR),
        ]
        assert patterns(events, any_three).engagement == 0.0
        events.append(view(5, NOW))
        assert patterns(events, any_three).engagement == 10.0


class TestSessions:
    def test_three_separate_visits_in_a_day(self):
        starts = [NOW - 6 * HOUR, NOW - 3 * HOUR, NOW]
        card = patterns([view(i, at) for i, at in enumerate(starts)], BUSY_DAY)
        assert card.engagement == 15.0

    def test_page_views_minutes_apart_are_one_visit(self):
        events = [view(i, NOW - i * timedelta(minutes=10)) for i in range(12)]  # 2 hours
        assert patterns(events, BUSY_DAY).engagement == 0.0

    def test_a_pause_of_thirty_minutes_starts_a_new_visit(self):
        gaps = [timedelta(minutes=30), timedelta(minutes=29, seconds=59)]
        just_enough = [view(0, NOW - 2 * gaps[0]), view(1, NOW - gaps[0]), view(2, NOW)]
        too_short = [view(0, NOW - 2 * gaps[1]), view(1, NOW - gaps[1]), view(2, NOW)]
        assert patterns(just_enough, BUSY_DAY).engagement == 15.0
        assert patterns(too_short, BUSY_DAY).engagement == 0.0

    def test_visits_on_different_days_do_not_add_up(self):
        events = [view(i, NOW - i * 2 * DAY) for i in range(3)]
        assert patterns(events, BUSY_DAY).engagement == 0.0


class TestComeback:
    def test_a_lead_quiet_for_three_months_that_comes_back(self):
        events = [view(1, NOW - 100 * DAY), view(2, NOW)]
        card = patterns(events, COMEBACK)
        assert card.engagement == 25.0
        assert card.contributions[0].last_event_id == 2
        assert card.last_event_id == 2

    def test_a_first_visit_is_not_a_comeback(self):
        assert patterns([view(1, NOW)], COMEBACK).engagement == 0.0

    def test_a_shorter_pause_is_not_a_comeback(self):
        events = [view(1, NOW - 89 * DAY), view(2, NOW)]
        assert patterns(events, COMEBACK).engagement == 0.0

    def test_emails_delivered_meanwhile_do_not_break_the_quiet(self):
        events = [
            view(1, NOW - 100 * DAY),
            ScoredEvent(2, "delivered", NOW - 50 * DAY),
            ScoredEvent(3, "opened", NOW - 40 * DAY, machine=True),
            view(4, NOW),
        ]
        assert patterns(events, COMEBACK).engagement == 25.0

    def test_the_comeback_must_be_the_named_action(self):
        trial = Pattern(
            "came back for a trial",
            PatternKind.COMEBACK,
            40,
            quiet_for=timedelta(days=90),
            match=EventFilter("trial_started"),
        )
        back_to_read = [view(1, NOW - 100 * DAY), view(2, NOW)]
        back_for_trial = [view(1, NOW - 100 * DAY), ScoredEvent(2, "trial_started", NOW)]
        assert patterns(back_to_read, trial).engagement == 0.0
        assert patterns(back_for_trial, trial).engagement == 40.0


def test_pattern_points_decay_from_the_moment_it_completed():
    events = [view(i, NOW - 30 * DAY - i * HOUR) for i in range(3)]
    card = patterns(events, REPEAT_PRICING, decay=Decay(half_life=timedelta(days=30)))
    assert card.engagement == 10.0
    assert card.contributions[0].raw == 20.0
