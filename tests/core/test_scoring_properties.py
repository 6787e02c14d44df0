"""DESIGN invariant 2: a score is a pure function of (event history, model, now)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from nurture.core.lead import LeadProfile
from nurture.core.scoring import project, score
from nurture.core.scoring_model import (
    AccountActivity,
    AccountSignal,
    Cap,
    Decay,
    EngagementRule,
    EventFilter,
    HandRaiser,
    Pattern,
    PatternKind,
    ScoredEvent,
    ScoringModel,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
LEAD = LeadProfile(email="dana@acme.io", title="Head of Product")
MODEL = ScoringModel(
    engagement_rules=(
        EngagementRule("email opens", EventFilter("opened"), 1, cap=Cap(5, timedelta(days=7))),
        EngagementRule("email clicks", EventFilter("clicked"), 5, cap=Cap(12, timedelta(days=3))),
        EngagementRule("pricing page", EventFilter("page_view", url="*/pricing*"), 15),
        EngagementRule("any page", EventFilter("page_view"), 2),
        EngagementRule("unsubscribed", EventFilter("unsubscribed"), -20),
        EngagementRule("webinar", EventFilter("webinar_attended"), 25, decays=False),
    ),
    patterns=(
        Pattern(
            "pricing 3x a week",
            PatternKind.REPEAT_VISITS,
            20,
            count=3,
            within=timedelta(days=7),
            match=EventFilter("page_view", url="*/pricing*"),
        ),
        Pattern("3 visits in a day", PatternKind.SESSIONS, 10, count=3, within=timedelta(days=1)),
        Pattern("back after a month", PatternKind.COMEBACK, 15, quiet_for=timedelta(days=30)),
    ),
    decay=Decay(half_life=timedelta(days=21), floor=2.0),
    account=AccountSignal(min_contacts=2, window=timedelta(days=14), points=10),
    hand_raisers=(
        HandRaiser("demo-request", EventFilter("form_submitted", data={"form": "demo"}), "sql"),
    ),
)

_ACTIONS = ("opened", "clicked", "page_view", "unsubscribed", "webinar_attended", "form_submitted")
_types = st.sampled_from((*_ACTIONS, "delivered", "bounced"))  # and delivery outcomes
_urls = st.sampled_from([None, "https://acme.example/pricing", "https://acme.example/blog"])
_offsets = st.integers(min_value=-120 * 24 * 60, max_value=60).map(lambda m: timedelta(minutes=m))


@st.composite
def histories(draw, min_size=0, max_size=25):
    """Events with distinct ids, some at the same instant, a few after NOW."""
    size = draw(st.integers(min_size, max_size))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    return [
        ScoredEvent(
            id=event_id,
            type=draw(_types),
            occurred_at=NOW + draw(_offsets),
            url=draw(_urls),
            data=draw(st.sampled_from([{}, {"form": "demo"}, {"form": "newsletter"}])),
            machine=draw(st.booleans()) and draw(st.booleans()),
        )
        for event_id in ids
    ]


_activity = st.lists(
    st.builds(AccountActivity, st.integers(1, 5), _offsets.map(lambda d: NOW + d)), max_size=5
)


@settings(max_examples=150)
@given(histories(), st.randoms(use_true_random=False), _activity)
def test_the_same_events_in_any_order_give_the_same_card(events, rng, activity):
    shuffled = list(events)
    rng.shuffle(shuffled)
    first = score(LEAD, events, MODEL, NOW, account_activity=activity, lead_id=1)
    again = score(LEAD, shuffled, MODEL, NOW, account_activity=activity[::-1], lead_id=1)
    assert again == first


@given(histories())
def test_scoring_twice_gives_the_same_card(events):
    assert score(LEAD, events, MODEL, NOW) == score(LEAD, events, MODEL, NOW)


@given(histories(), _types, _offsets, _urls)
def test_a_machine_event_changes_nothing_but_the_ignored_count(events, type_, offset, url):
    bot = ScoredEvent(20_000, type_, NOW + offset, url=url, data={"form": "demo"}, machine=True)
    before = score(LEAD, events, MODEL, NOW)
    after = score(LEAD, [*events, bot], MODEL, NOW)
    counted = 1 if bot.occurred_at <= NOW else 0
    assert after.machine_ignored == before.machine_ignored + counted
    assert after.as_dict() | {"machine_ignored": 0} == before.as_dict() | {"machine_ignored": 0}


@given(histories())
def test_events_after_now_change_nothing(events):
    past = [e for e in events if e.occurred_at <= NOW]
    assert score(LEAD, events, MODEL, NOW) == score(LEAD, past, MODEL, NOW)


@given(histories(min_size=1))
def test_the_tipping_event_is_a_real_event_of_the_past(events):
    card = score(LEAD, events, MODEL, NOW)
    if card.last_event_id is not None:
        tipping = next(e for e in events if e.id == card.last_event_id)
        assert not tipping.machine
        assert tipping.occurred_at <= NOW


@given(histories(), _activity, st.integers(0, 400 * 24).map(lambda h: timedelta(hours=h)))
def test_the_projected_engagement_equals_a_full_rescore_later(events, activity, later):
    # review_at probes the projection instead of rescoring: they must agree
    past = [e for e in events if e.occurred_at <= NOW]
    projection = project(LEAD, past, MODEL, NOW, account_activity=activity, lead_id=1)
    rescored = score(LEAD, past, MODEL, NOW + later, account_activity=activity, lead_id=1)
    assert projection.card == score(LEAD, past, MODEL, NOW, account_activity=activity, lead_id=1)
    assert abs(projection.engagement_at(NOW + later) - rescored.engagement) <= 0.1
