"""Send windows in the lead's zone. DST dates of 2026, read from zoneinfo:
Europe/Paris springs forward Sun 29 March (02:00 CET -> 03:00 CEST, 01:00 UTC) and falls back
Sun 25 October (03:00 CEST -> 02:00 CET, 01:00 UTC); America/New_York springs forward Sun 8
March (02:00 EST -> 03:00 EDT, 07:00 UTC) and falls back Sun 1 November (02:00 EDT -> 01:00
EST, 06:00 UTC). Pacific/Kiritimati is UTC+14 and Pacific/Pago_Pago UTC-11, no DST.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nurture.core.funnel import SendWindow
from nurture.core.windows import END_OF_DAY, in_window, local_to_utc, next_send_time

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
OFFICE = SendWindow(WEEKDAYS, time(9), time(17))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def local(zone: ZoneInfo, *wall: int, fold: int = 0) -> datetime:
    """An instant given by its wall time in ``zone`` (year ... microsecond), as UTC."""
    y, mo, d, h, mi, s, us = (*wall, 0, 0, 0, 0, 0)[:7]
    return datetime(y, mo, d, h, mi, s, us, tzinfo=zone, fold=fold).astimezone(UTC)


def daily(start: time, end: time) -> SendWindow:
    return SendWindow(EVERY_DAY, start, end)


class TestInWindow:
    def test_a_second_before_closing_is_inside(self):
        assert in_window(OFFICE, PARIS, local(PARIS, 2026, 6, 9, 16, 59, 59))

    def test_closing_time_itself_is_outside(self):
        assert not in_window(OFFICE, PARIS, local(PARIS, 2026, 6, 9, 17, 0))

    def test_opening_time_itself_is_inside(self):
        assert in_window(OFFICE, PARIS, local(PARIS, 2026, 6, 9, 9, 0))

    def test_a_second_before_opening_is_outside(self):
        assert not in_window(OFFICE, PARIS, local(PARIS, 2026, 6, 9, 8, 59, 59))

    def test_a_day_not_in_the_window_is_outside_at_any_hour(self):
        assert not in_window(OFFICE, PARIS, local(PARIS, 2026, 6, 6, 12, 0))  # Saturday

    def test_the_day_is_the_leads_local_day_not_the_utc_day(self):
        # Sunday 20:00 UTC is Monday 10:00 in Kiritimati.
        assert in_window(OFFICE, KIRITIMATI, utc(2026, 6, 7, 20, 0))
        assert not in_window(OFFICE, ZoneInfo("UTC"), utc(2026, 6, 7, 20, 0))

    def test_naive_instant_is_refused(self):
        with pytest.raises(TypeError, match="naive"):
            in_window(OFFICE, PARIS, datetime(2026, 6, 9, 12, 0))


class TestNextSendTime:
    def test_inside_the_window_is_now_itself(self):
        now = local(PARIS, 2026, 6, 9, 16, 59, 59, 999999)
        assert next_send_time(OFFICE, PARIS, now) == now

    def test_before_opening_waits_for_todays_start(self):
        now = local(PARIS, 2026, 6, 9, 8, 59, 59)
        assert next_send_time(OFFICE, PARIS, now) == local(PARIS, 2026, 6, 9, 9, 0)

    def test_at_closing_time_waits_for_the_next_morning(self):
        now = local(PARIS, 2026, 6, 9, 17, 0)
        assert next_send_time(OFFICE, PARIS, now) == local(PARIS, 2026, 6, 10, 9, 0)

    def test_friday_at_closing_time_waits_for_monday_morning(self):
        now = local(PARIS, 2026, 6, 12, 17, 0)
        assert next_send_time(OFFICE, PARIS, now) == local(PARIS, 2026, 6, 15, 9, 0)

    def test_result_is_utc_whatever_zone_now_was_given_in(self):
        now = datetime(2026, 6, 9, 8, 0, tzinfo=PARIS)
        result = next_send_time(OFFICE, PARIS, now)
        assert result.tzinfo is UTC
        assert result == utc(2026, 6, 9, 7, 0)

    def test_naive_now_is_refused(self):
        with pytest.raises(TypeError, match="naive"):
            next_send_time(OFFICE, PARIS, datetime(2026, 6, 9, 8, 0))

    def test_a_window_across_midnight_is_refused(self):
        with pytest.raises(ValueError, match="across midnight"):
            next_send_time(daily(time(22), time(6)), PARIS, utc(2026, 6, 9))

    def test_a_window_without_days_is_refused(self):
        with pytest.raises(ValueError, match="days"):
            next_send_time(SendWindow(frozenset(), time(9), time(17)), PARIS, utc(2026, 6, 9))

    def test_a_window_opening_at_midnight_opens_on_the_next_allowed_local_day(self):
        night = SendWindow(WEEKDAYS, time(0), time(6))
        now = local(PARIS, 2026, 6, 12, 23, 59, 59)  # Friday
        assert next_send_time(night, PARIS, now) == local(PARIS, 2026, 6, 15, 0, 0)


class TestFarFromUtc:
    def test_kiritimati_monday_morning_is_utc_sunday(self):
        now = utc(2026, 6, 7, 18, 0)  # Sunday UTC, Monday 08:00 in Kiritimati
        assert next_send_time(OFFICE, KIRITIMATI, now) == utc(2026, 6, 7, 19, 0)

    def test_kiritimati_friday_evening_is_utc_friday_morning(self):
        now = utc(2026, 6, 12, 3, 0)  # Friday 17:00 in Kiritimati
        assert next_send_time(OFFICE, KIRITIMATI, now) == utc(2026, 6, 14, 19, 0)

    def test_pago_pago_friday_afternoon_is_utc_saturday(self):
        now = utc(2026, 6, 13, 2, 0)  # Friday 15:00 in Pago Pago
        assert next_send_time(OFFICE, PAGO_PAGO, now) == now

    def test_pago_pago_sunday_evening_is_utc_monday(self):
        now = utc(2026, 6, 15, 5, 0)  # Sunday 18:00 in Pago Pago
        assert next_send_time(OFFICE, PAGO_PAGO, now) == utc(2026, 6, 15, 20, 0)


class TestDaylightSaving:
    def test_paris_window_opens_at_local_nine_after_spring_forward(self):
        now = local(PARIS, 2026, 3, 28, 17, 0)  # Saturday, CET
        assert next_send_time(daily(time(9), time(17)), PARIS, now) == utc(2026, 3, 29, 7, 0)

    def test_paris_window_opens_at_local_nine_after_fall_back(self):
        now = local(PARIS, 2026, 10, 24, 17, 0)  # Saturday, CEST
        assert next_send_time(daily(time(9), time(17)), PARIS, now) == utc(2026, 10, 25, 8, 0)

    def test_paris_start_in_the_spring_gap_opens_when_the_gap_ends(self):
        now = local(PARIS, 2026, 3, 28, 12, 0)
        window = daily(time(2, 30), time(6))
        assert next_send_time(window, PARIS, now) == utc(2026, 3, 29, 1, 0)  # 03:00 CEST

    def test_new_york_start_in_the_spring_gap_opens_when_the_gap_ends(self):
        now = local(NEW_YORK, 2026, 3, 7, 12, 0)
        window = daily(time(2, 30), time(6))
        assert next_send_time(window, NEW_YORK, now) == utc(2026, 3, 8, 7, 0)  # 03:00 EDT

    def test_a_window_wholly_inside_the_gap_does_not_open_that_day(self):
        now = local(PARIS, 2026, 3, 28, 12, 0)
        window = daily(time(2, 0), time(3, 0))
        assert next_send_time(window, PARIS, now) == local(PARIS, 2026, 3, 30, 2, 0)

    def test_paris_start_in_the_repeated_hour_opens_at_its_first_occurrence(self):
        now = local(PARIS, 2026, 10, 24, 12, 0)
        window = daily(time(2, 30), time(6))
        assert next_send_time(window, PARIS, now) == utc(2026, 10, 25, 0, 30)  # CEST

    def test_new_york_start_in_the_repeated_hour_opens_at_its_first_occurrence(self):
        now = local(NEW_YORK, 2026, 10, 31, 12, 0)
        window = daily(time(1, 30), time(6))
        assert next_send_time(window, NEW_YORK, now) == utc(2026, 11, 1, 5, 30)  # EDT

    def test_a_window_inside_the_repeated_hour_opens_again_when_the_clock_goes_back(self):
        window = daily(time(2, 0), time(2, 30))
        now = local(PARIS, 2026, 10, 25, 2, 45)  # CEST, first pass through 02:45
        assert next_send_time(window, PARIS, now) == utc(2026, 10, 25, 1, 0)  # 02:00 CET


class TestUntilMidnight:
    """An end of END_OF_DAY (``24:00`` in nurture.yaml) runs to midnight, last instant included."""

    WHOLE_DAY = daily(time(0), END_OF_DAY)
    WEEKDAYS_WHOLE_DAY = SendWindow(WEEKDAYS, time(0), END_OF_DAY)

    def test_the_last_microsecond_of_the_day_is_inside(self):
        assert in_window(self.WHOLE_DAY, PARIS, local(PARIS, 2026, 6, 9, 23, 59, 59, 999999))

    def test_midnight_is_inside(self):
        assert in_window(self.WHOLE_DAY, PARIS, local(PARIS, 2026, 6, 9, 0, 0))

    def test_an_evening_window_to_midnight_includes_the_last_microsecond(self):
        evening = daily(time(18), END_OF_DAY)
        assert in_window(evening, PARIS, local(PARIS, 2026, 6, 9, 23, 59, 59, 999999))
        assert not in_window(evening, PARIS, local(PARIS, 2026, 6, 9, 17, 59, 59))

    def test_a_whole_day_window_every_day_is_always_open(self):
        for now in (utc(2026, 3, 29, 1), local(PARIS, 2026, 10, 25, 2, 30), utc(2026, 6, 9)):
            assert next_send_time(self.WHOLE_DAY, PARIS, now) == now

    def test_after_friday_it_opens_at_monday_midnight(self):
        now = local(PARIS, 2026, 6, 13, 0, 0)  # Saturday
        assert next_send_time(self.WEEKDAYS_WHOLE_DAY, PARIS, now) == local(PARIS, 2026, 6, 15)

    def test_friday_last_microsecond_is_still_friday(self):
        now = local(PARIS, 2026, 6, 12, 23, 59, 59, 999999)
        assert next_send_time(self.WEEKDAYS_WHOLE_DAY, PARIS, now) == now

    def test_a_day_whose_midnight_is_skipped_opens_when_the_gap_ends(self):
        santiago = ZoneInfo("America/Santiago")  # Sun 6 Sep 2026: 00:00 -> 01:00 (04:00 UTC)
        sundays = SendWindow(frozenset({6}), time(0), END_OF_DAY)
        now = local(santiago, 2026, 9, 5, 12, 0)
        assert next_send_time(sundays, santiago, now) == utc(2026, 9, 6, 4, 0)


class TestLocalToUtc:
    def test_a_gap_wall_time_is_the_end_of_the_gap(self):
        assert local_to_utc(datetime(2026, 3, 29, 2, 30), PARIS) == utc(2026, 3, 29, 1, 0)

    def test_a_repeated_wall_time_is_its_first_occurrence(self):
        assert local_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)

    def test_an_aware_datetime_is_refused(self):
        with pytest.raises(TypeError, match="naive wall-clock"):
            local_to_utc(utc(2026, 3, 29, 2, 30), PARIS)


# Properties. Zones cover DST north and south, half-hour DST (Lord Howe), transitions at
# midnight (Santiago, Havana), large offsets and none; instants cluster around transitions.
ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Kathmandu",
    "UTC",
]
TRANSITIONS = [
    utc(2026, 3, 8, 7),
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),  # Lord Howe, 02:00 -> 01:30
    utc(2026, 10, 3, 15, 30),  # Lord Howe, 02:00 -> 02:30
    utc(2026, 4, 5, 3),  # Santiago, 00:00 -> 23:00
    utc(2026, 9, 6, 4),  # Santiago, 00:00 -> 01:00
    utc(2026, 3, 8, 5),  # Havana, 00:00 -> 01:00
    utc(2026, 11, 1, 5),  # Havana, 01:00 -> 00:00
]
zones = st.sampled_from(ZONES).map(ZoneInfo)
near_transition = st.builds(
    lambda t, minutes: t + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(-3 * 24 * 60, 24 * 60),
)
anywhere = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
instants = st.one_of(near_transition, anywhere)
minutes_of_day = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
windows = st.builds(
    lambda days, a, b: SendWindow(days, min(a, b), max(a, b)),
    st.frozensets(st.integers(0, 6), min_size=1),
    minutes_of_day,
    minutes_of_day,
).filter(lambda w: w.start < w.end)


@given(windows, zones, instants)
def test_the_result_is_in_the_window_and_not_before_now(window, zone, now):
    result = next_send_time(window, zone, now)
    assert result >= now
    assert in_window(window, zone, result)


@given(windows, zones, instants)
def test_the_result_is_its_own_next_send_time(window, zone, now):
    result = next_send_time(window, zone, now)
    assert next_send_time(window, zone, result) == result


@settings(max_examples=60, deadline=None)
@given(windows, zones, instants.map(lambda t: t.replace(second=0, microsecond=0)))
def test_no_opening_is_skipped(window, zone, now):
    # Windows bound whole minutes and every zone here changes offset on a whole minute,
    # so the window can only open on a minute: checking each minute before the result
    # checks every instant in [now, result).
    result = next_send_time(window, zone, now)
    minute = now
    while minute < result:
        assert not in_window(window, zone, minute), minute
        minute += timedelta(minutes=1)


to_midnight = st.builds(
    lambda days, start: SendWindow(days, start, END_OF_DAY),
    st.frozensets(st.integers(0, 6), min_size=1),
    minutes_of_day,
)


@given(to_midnight, zones, instants)
def test_a_window_to_midnight_gives_a_time_inside_it_and_not_before_now(window, zone, now):
    result = next_send_time(window, zone, now)
    assert result >= now
    assert in_window(window, zone, result)
    assert next_send_time(window, zone, result) == result


@settings(max_examples=40, deadline=None)
@given(to_midnight, zones, instants.map(lambda t: t.replace(second=0, microsecond=0)))
def test_no_opening_of_a_window_to_midnight_is_skipped(window, zone, now):
    result = next_send_time(window, zone, now)
    minute = now
    while minute < result:
        assert not in_window(window, zone, minute), minute
        minute += timedelta(minutes=1)
