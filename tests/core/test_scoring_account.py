from datetime import UTC, datetime, timedelta

from nurture.core.lead import LeadProfile
from nurture.core.scoring import score
from nurture.core.scoring_model import (
    AccountActivity,
    AccountSignal,
    Decay,
    ScoredEvent,
    ScoringModel,
)
from nurture.core.scoring_patterns import ACCOUNT_RULE

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DANA = 11
LEAD = LeadProfile(email="dana@acme.io")
BUYING_GROUP = AccountSignal(min_contacts=3, window=timedelta(days=14), points=20)
MODEL = ScoringModel(account=BUYING_GROUP)


def click(id_, at) -> ScoredEvent:
    return ScoredEvent(id=id_, type="clicked", occurred_at=at, step="guide")


def account_score(events, activity, model=MODEL):
    return score(LEAD, events, model, NOW, account_activity=activity, lead_id=DANA)


class TestAccountSignal:
    def test_three_colleagues_engaging_in_two_weeks_lift_each_of_them(self):
        card = account_score(
            [click(1, NOW - DAY)],
            [AccountActivity(12, NOW - 2 * DAY), AccountActivity(13, NOW - 10 * DAY)],
        )
        assert card.engagement == 20.0
        (contribution,) = card.contributions
        assert (contribution.rule, contribution.kind, contribution.events) == (
            ACCOUNT_RULE,
            "account",
            3,
        )

    def test_two_contacts_are_not_enough(self):
        card = account_score([click(1, NOW - DAY)], [AccountActivity(12, NOW - 2 * DAY)])
        assert card.engagement == 0.0
        assert card.contributions == ()

    def test_a_colleague_counts_once_however_often_they_engage(self):
        activity = [AccountActivity(12, NOW - i * DAY) for i in range(1, 6)]
        assert account_score([click(1, NOW - DAY)], activity).engagement == 0.0

    def test_the_lead_own_activity_from_the_account_feed_is_not_a_colleague(self):
        activity = [AccountActivity(DANA, NOW - DAY), AccountActivity(12, NOW - DAY)]
        assert account_score([click(1, NOW - DAY)], activity).engagement == 0.0

    def test_activity_outside_the_window_does_not_count(self):
        activity = [AccountActivity(12, NOW - 2 * DAY), AccountActivity(13, NOW - 15 * DAY)]
        assert account_score([click(1, NOW - DAY)], activity).engagement == 0.0

    def test_own_engagement_outside_the_window_does_not_count(self):
        activity = [AccountActivity(12, NOW - 2 * DAY), AccountActivity(13, NOW - 3 * DAY)]
        assert account_score([click(1, NOW - 20 * DAY)], activity).engagement == 0.0

    def test_a_busy_account_lifts_a_contact_who_has_not_engaged_yet(self):
        activity = [AccountActivity(lead, NOW - DAY) for lead in (12, 13, 14)]
        assert account_score([], activity).engagement == 20.0

    def test_future_activity_does_not_count_yet(self):
        activity = [AccountActivity(12, NOW - DAY), AccountActivity(13, NOW + DAY)]
        assert account_score([click(1, NOW - DAY)], activity).engagement == 0.0

    def test_points_decay_from_the_latest_activity(self):
        model = ScoringModel(
            account=AccountSignal(min_contacts=2, window=timedelta(days=60), points=20),
            decay=Decay(half_life=timedelta(days=30)),
        )
        card = account_score(
            [click(1, NOW - 40 * DAY)], [AccountActivity(12, NOW - 30 * DAY)], model
        )
        assert card.engagement == 10.0

    def test_no_account_signal_configured(self):
        activity = [AccountActivity(lead, NOW - DAY) for lead in (12, 13, 14)]
        assert account_score([click(1, NOW)], activity, ScoringModel()).engagement == 0.0
