from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurture.core.caps import cap_release, sends_in_period
from nurture.core.funnel import FrequencyCap

NOW = datetime(2026, 6, 9, 12, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)
TWO_A_WEEK = FrequencyCap(max_emails=2, period=WEEK)
TICK = timedelta(microseconds=1)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


class TestCapRelease:
    def test_no_sends_allow_one_now(self):
        assert cap_release(TWO_A_WEEK, [], NOW) is None

    def test_fewer_sends_than_the_cap_allow_one_now(self):
        assert cap_release(TWO_A_WEEK, [days_ago(1)], NOW) is None

    def test_at_the_cap_the_oldest_send_must_leave_the_period(self):
        sends = [days_ago(1), days_ago(3)]
        assert cap_release(TWO_A_WEEK, sends, NOW) == days_ago(3) + WEEK

    def test_the_order_of_sends_does_not_matter(self):
        sends = [days_ago(3), days_ago(1), days_ago(10)]
        assert cap_release(TWO_A_WEEK, sends, NOW) == cap_release(TWO_A_WEEK, sorted(sends), NOW)
        assert cap_release(TWO_A_WEEK, sends, NOW) == days_ago(3) + WEEK

    def test_a_send_exactly_one_period_ago_no_longer_counts(self):
        sends = [days_ago(1), NOW - WEEK]
        assert cap_release(TWO_A_WEEK, sends, NOW) is None

    def test_a_send_just_under_one_period_ago_still_counts(self):
        sends = [days_ago(1), NOW - WEEK + TICK]
        assert cap_release(TWO_A_WEEK, sends, NOW) == NOW + TICK

    def test_a_send_in_the_future_counts(self):
        sends = [days_ago(1), NOW + timedelta(minutes=5)]
        assert cap_release(TWO_A_WEEK, sends, NOW) == days_ago(1) + WEEK

    def test_over_the_cap_waits_until_only_one_fewer_than_the_cap_remains(self):
        sends = [days_ago(1), days_ago(2), days_ago(3)]
        assert cap_release(TWO_A_WEEK, sends, NOW) == days_ago(2) + WEEK

    def test_sends_at_the_same_instant_leave_together(self):
        sends = [days_ago(2), days_ago(2), days_ago(1)]
        assert cap_release(TWO_A_WEEK, sends, NOW) == days_ago(2) + WEEK

    def test_sends_in_other_zones_are_the_same_instants(self):
        paris = [s.astimezone(ZoneInfo("Europe/Paris")) for s in (days_ago(1), days_ago(3))]
        assert cap_release(TWO_A_WEEK, paris, NOW) == days_ago(3) + WEEK

    def test_naive_sends_are_refused(self):
        with pytest.raises(TypeError, match="naive"):
            cap_release(TWO_A_WEEK, [datetime(2026, 6, 8, 12, 0)], NOW)

    def test_naive_now_is_refused(self):
        with pytest.raises(TypeError, match="naive"):
            cap_release(TWO_A_WEEK, [], datetime(2026, 6, 9, 12, 0))

    @pytest.mark.parametrize(
        "cap", [FrequencyCap(0, WEEK), FrequencyCap(2, timedelta(0))], ids=["no-emails", "no-time"]
    )
    def test_a_cap_that_allows_nothing_is_refused(self, cap):
        with pytest.raises(ValueError, match="frequency cap"):
            cap_release(cap, [], NOW)


caps = st.builds(
    FrequencyCap,
    st.integers(1, 5),
    st.integers(60, 14 * 86400).map(lambda s: timedelta(seconds=s)),
)
offsets = st.integers(-86400, 20 * 86400).map(lambda s: timedelta(seconds=s))
send_lists = st.lists(offsets.map(lambda o: NOW - o), max_size=8)


@given(caps, send_lists)
def test_none_exactly_when_fewer_than_the_cap_count(cap, sends):
    release = cap_release(cap, sends, NOW)
    assert (release is None) == (sends_in_period(cap, sends, NOW) < cap.max_emails)


@given(caps, send_lists)
def test_at_release_one_more_email_fits_and_not_a_moment_before(cap, sends):
    release = cap_release(cap, sends, NOW)
    if release is not None:
        assert release > NOW
        assert sends_in_period(cap, sends, release) < cap.max_emails
        assert sends_in_period(cap, sends, release - TICK) >= cap.max_emails
        assert cap_release(cap, sends, release) is None
