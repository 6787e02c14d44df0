"""Wait steps in the lead's zone. DST dates of 2026 as in test_windows: Paris 29 March and
25 October (01:00 UTC both), New York 8 March (07:00 UTC) and 1 November (06:00 UTC)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurture.core.sequence import WaitFor
from nurture.core.waits import wait_until

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")
MON, TUE, FRI = 0, 1, 4


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def local(zone: ZoneInfo, *wall: int, fold: int = 0) -> datetime:
    """An instant given by its wall time in ``zone`` (year ... microsecond), as UTC."""
    y, mo, d, h, mi, s, us = (*wall, 0, 0, 0, 0, 0)[:7]
    return datetime(y, mo, d, h, mi, s, us, tzinfo=zone, fold=fold).astimezone(UTC)


def wait(**kwargs: object) -> WaitFor:
    return WaitFor(**kwargs)  # type: ignore[arg-type]


class TestDurations:
    def test_whole_days_keep_the_local_time_across_spring_forward(self):
        now = local(PARIS, 2026, 3, 27, 10, 0)  # Friday 10:00 CET
        result = wait_until(wait(duration=timedelta(days=2)), PARIS, now)
        assert result == local(PARIS, 2026, 3, 29, 10, 0)  # Sunday 10:00 CEST
        assert result - now == timedelta(hours=47)

    def test_whole_days_keep_the_local_time_across_fall_back(self):
        now = local(NEW_YORK, 2026, 10, 31, 10, 0)  # Saturday 10:00 EDT
        result = wait_until(wait(duration=timedelta(days=1)), NEW_YORK, now)
        assert result == local(NEW_YORK, 2026, 11, 1, 10, 0)  # Sunday 10:00 EST
        assert result - now == timedelta(hours=25)

    def test_whole_days_without_a_clock_change_are_exact(self):
        now = local(PARIS, 2026, 6, 9, 10, 0)
        assert wait_until(wait(duration=timedelta(weeks=1)), PARIS, now) == now + timedelta(days=7)

    def test_hours_are_elapsed_time_across_spring_forward(self):
        now = utc(2026, 3, 8, 5, 30)  # 00:30 EST
        result = wait_until(wait(duration=timedelta(hours=4)), NEW_YORK, now)
        assert result == utc(2026, 3, 8, 9, 30)  # 05:30 EDT: five hours on the wall clock

    def test_days_and_hours_together_are_elapsed_time(self):
        now = local(PARIS, 2026, 3, 28, 10, 0)
        result = wait_until(wait(duration=timedelta(days=1, hours=12)), PARIS, now)
        assert result == now + timedelta(hours=36)

    def test_a_day_landing_in_the_spring_gap_ends_when_the_gap_ends(self):
        now = local(PARIS, 2026, 3, 28, 2, 30)  # Saturday 02:30 CET
        result = wait_until(wait(duration=timedelta(days=1)), PARIS, now)
        assert result == utc(2026, 3, 29, 1, 0)  # 03:00 CEST

    def test_a_day_landing_in_the_repeated_hour_takes_its_first_occurrence(self):
        now = local(PARIS, 2026, 10, 24, 2, 30)  # Saturday 02:30 CEST
        result = wait_until(wait(duration=timedelta(days=1)), PARIS, now)
        assert result == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, not 02:30 CET

    def test_a_day_from_the_second_pass_of_the_repeated_hour_keeps_the_wall_time(self):
        now = local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)  # 01:30 EST
        result = wait_until(wait(duration=timedelta(days=1)), NEW_YORK, now)
        assert result == local(NEW_YORK, 2026, 11, 2, 1, 30)


class TestBusinessDays:
    @pytest.mark.parametrize(
        ("start_day", "business_days", "end_day"),
        [
            (8, 1, 9),  # Monday + 1 = Tuesday
            (12, 1, 15),  # Friday + 1 = Monday
            (13, 1, 15),  # Saturday + 1 = Monday
            (14, 1, 15),  # Sunday + 1 = Monday
            (11, 2, 15),  # Thursday + 2 = Monday
            (8, 5, 15),  # Monday + 5 = next Monday
            (13, 5, 19),  # Saturday + 5 = Friday
            (12, 6, 22),  # Friday + 6 = Monday after next
        ],
    )
    def test_counts_only_monday_to_friday_from_the_next_day(
        self, start_day, business_days, end_day
    ):
        now = local(PARIS, 2026, 6, start_day, 11, 15)
        result = wait_until(wait(business_days=business_days), PARIS, now)
        assert result == local(PARIS, 2026, 6, end_day, 11, 15)

    def test_the_weekend_is_the_leads_local_weekend(self):
        now = utc(2026, 6, 12, 12, 0)  # Friday UTC, Saturday 02:00 in Kiritimati
        result = wait_until(wait(business_days=1), KIRITIMATI, now)
        assert result == local(KIRITIMATI, 2026, 6, 15, 2, 0)  # Monday, i.e. Sunday UTC

    def test_the_local_time_is_kept_across_fall_back(self):
        now = local(PARIS, 2026, 10, 23, 9, 0)  # Friday CEST
        result = wait_until(wait(business_days=1), PARIS, now)
        assert result == local(PARIS, 2026, 10, 26, 9, 0)  # Monday CET


class TestUntil:
    def test_a_weekday_later_this_week(self):
        now = local(PARIS, 2026, 6, 8, 15, 0)  # Monday
        result = wait_until(wait(weekday=TUE, at=time(10)), PARIS, now)
        assert result == local(PARIS, 2026, 6, 9, 10, 0)

    def test_the_same_weekday_still_ahead_today(self):
        now = local(PARIS, 2026, 6, 9, 9, 59, 59)  # Tuesday
        result = wait_until(wait(weekday=TUE, at=time(10)), PARIS, now)
        assert result == local(PARIS, 2026, 6, 9, 10, 0)

    def test_the_same_weekday_at_that_very_time_means_next_week(self):
        now = local(PARIS, 2026, 6, 9, 10, 0)  # Tuesday
        result = wait_until(wait(weekday=TUE, at=time(10)), PARIS, now)
        assert result == local(PARIS, 2026, 6, 16, 10, 0)

    def test_a_time_still_ahead_today_is_today(self):
        now = local(PARIS, 2026, 6, 9, 9, 59, 59)
        assert wait_until(wait(at=time(10)), PARIS, now) == local(PARIS, 2026, 6, 9, 10, 0)

    def test_a_time_reached_today_is_tomorrow(self):
        now = local(PARIS, 2026, 6, 9, 10, 0)
        assert wait_until(wait(at=time(10)), PARIS, now) == local(PARIS, 2026, 6, 10, 10, 0)

    def test_today_is_the_leads_local_day_west_of_utc(self):
        now = utc(2026, 6, 9, 15, 0)  # Tuesday 04:00 in Pago Pago
        assert wait_until(wait(at=time(10)), PAGO_PAGO, now) == utc(2026, 6, 9, 21, 0)

    def test_a_local_monday_can_be_a_utc_sunday(self):
        now = utc(2026, 6, 7, 15, 0)  # Sunday UTC, Monday 05:00 in Kiritimati
        result = wait_until(wait(weekday=MON, at=time(10)), KIRITIMATI, now)
        assert result == utc(2026, 6, 7, 20, 0)

    def test_a_time_in_the_spring_gap_is_the_end_of_the_gap(self):
        now = local(NEW_YORK, 2026, 3, 7, 12, 0)
        result = wait_until(wait(at=time(2, 30)), NEW_YORK, now)
        assert result == utc(2026, 3, 8, 7, 0)  # 03:00 EDT

    def test_a_repeated_time_is_its_first_occurrence(self):
        now = local(PARIS, 2026, 10, 24, 12, 0)
        result = wait_until(wait(at=time(2, 30)), PARIS, now)
        assert result == utc(2026, 10, 25, 0, 30)  # 02:30 CEST

    def test_between_the_two_occurrences_the_next_day_is_next(self):
        now = utc(2026, 10, 25, 1, 0)  # 02:00 CET, after the first 02:30 went by
        result = wait_until(wait(at=time(2, 30)), PARIS, now)
        assert result == local(PARIS, 2026, 10, 26, 2, 30)


class TestRefusals:
    def test_naive_now_is_refused(self):
        with pytest.raises(TypeError, match="naive"):
            wait_until(wait(at=time(10)), PARIS, datetime(2026, 6, 9, 10, 0))

    @pytest.mark.parametrize(
        "bad",
        [
            {},
            {"duration": timedelta(days=1), "business_days": 2},
            {"weekday": TUE},
            {"duration": timedelta(0)},
            {"business_days": 0},
            {"weekday": 7, "at": time(10)},
        ],
    )
    def test_a_malformed_wait_is_refused(self, bad):
        with pytest.raises(ValueError, match=r"wait|weekday"):
            wait_until(wait(**bad), PARIS, utc(2026, 6, 9))


ZONES = ["Europe/Paris", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
ZONES += ["Australia/Lord_Howe", "America/Santiago", "America/Havana", "UTC"]
zones = st.sampled_from(ZONES).map(ZoneInfo)
instants = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
times = st.times()
waits = st.one_of(
    st.builds(lambda s: wait(duration=timedelta(seconds=s)), st.integers(1, 30 * 86400)),
    st.builds(lambda d: wait(duration=timedelta(days=d)), st.integers(1, 30)),
    st.builds(lambda n: wait(business_days=n), st.integers(1, 30)),
    st.builds(lambda d, t: wait(weekday=d, at=t), st.integers(0, 6), times),
    st.builds(lambda t: wait(at=t), times),
)


@given(waits, zones, instants)
def test_every_wait_ends_after_now(w, zone, now):
    assert wait_until(w, zone, now) > now


@given(st.integers(0, 6), times, zones, instants)
def test_until_lands_on_its_weekday_within_a_week(weekday, at, zone, now):
    result = wait_until(wait(weekday=weekday, at=at), zone, now)
    assert result.astimezone(zone).weekday() == weekday
    assert result - now <= timedelta(days=7, hours=3)


@given(st.integers(1, 30), zones, instants)
def test_business_days_end_on_a_weekday(count, zone, now):
    result = wait_until(wait(business_days=count), zone, now)
    assert result.astimezone(zone).weekday() < 5
