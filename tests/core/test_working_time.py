"""SLA clocks run in the owner's working hours: nights, weekends, days off and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from nurture.core.funnel import SendWindow
from nurture.core.handoff_model import Rep
from nurture.core.working_time import at_work, local_day, working_deadline

WEEKDAYS = frozenset(range(5))


def rep(zone: str = "America/New_York", days: frozenset[int] = WEEKDAYS, **window: time) -> Rep:
    hours = SendWindow(days, window.get("start", time(9)), window.get("end", time(17, 30)))
    return Rep("Priya", "priya@lumen.example", "sdr", time_zone=zone, hours=hours)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class TestWorkingDeadline:
    def test_within_the_day(self):
        # Monday 10:00 in New York + 4 working hours = 14:00
        assert working_deadline(rep(), utc(2026, 11, 23, 15), timedelta(hours=4)) == utc(
            2026, 11, 23, 19
        )

    def test_the_rest_carries_to_the_next_morning(self):
        # Monday 16:00 + 4h: 1.5h today, 2.5h from 09:00 Tuesday = 11:30 New York
        deadline = working_deadline(rep(), utc(2026, 11, 23, 21), timedelta(hours=4))
        assert deadline == utc(2026, 11, 24, 16, 30)

    def test_a_friday_evening_handoff_is_due_monday(self):
        # Friday 20:00 New York: the clock starts Monday 09:00
        deadline = working_deadline(rep(), utc(2026, 11, 28, 1), timedelta(hours=1))
        assert deadline == utc(2026, 11, 30, 15)

    def test_days_off_do_not_count(self):
        tom = rep("Europe/Berlin", frozenset(range(4)), start=time(9), end=time(17))
        # Thursday 16:00 in Berlin + 2h: 1h Thursday, then Monday 09:00-10:00
        deadline = working_deadline(tom, utc(2026, 11, 26, 15), timedelta(hours=2))
        assert deadline == utc(2026, 11, 30, 9)

    def test_an_hour_of_work_is_an_hour_of_real_time_across_spring_forward(self):
        # Friday 2026-03-06 16:30 EST + 2h: 1h Friday, 1h from Monday 09:00 EDT (UTC-4)
        deadline = working_deadline(rep(), utc(2026, 3, 6, 21, 30), timedelta(hours=2))
        assert deadline == utc(2026, 3, 9, 14)

    def test_a_round_the_clock_rep_counts_the_short_night_as_it_is(self):
        always = rep(days=frozenset(range(7)), start=time(0), end=time.max)
        start = utc(2026, 3, 7, 17)  # Saturday noon EST; the night loses an hour
        assert working_deadline(always, start, timedelta(hours=24)) == start + timedelta(hours=24)

    def test_a_rep_without_hours_runs_on_the_wall_clock(self):
        anyone = Rep("Ana", "ana@lumen.example", "sdr")
        start = utc(2026, 11, 28, 3)
        assert working_deadline(anyone, start, timedelta(hours=8)) == start + timedelta(hours=8)

    def test_naive_start_is_refused(self):
        with pytest.raises(TypeError):
            working_deadline(rep(), datetime(2026, 11, 23, 9), timedelta(hours=1))


def test_at_work_and_local_day_follow_the_reps_zone():
    late = utc(2026, 11, 24, 4, 30)  # 23:30 Monday in New York
    assert not at_work(rep(), late)
    assert local_day(rep(), late) == "2026-11-23"
    assert at_work(rep(), utc(2026, 11, 23, 14))  # 09:00 sharp
    assert not at_work(rep(), utc(2026, 11, 23, 22, 30))  # 17:30 sharp: closed
