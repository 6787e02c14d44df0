"""A rep's working time: whether they are at work, their local day, and when N working hours
after a moment have passed (SLA deadlines count only the owner's working hours).

Working hours are a ``SendWindow`` in the rep's zone, judged by the wall clock like send
windows (``nurture.core.windows``): the same DST rules apply. A rep without hours works
around the clock, so their working time is wall-clock time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from nurture.core.funnel import SendWindow
from nurture.core.handoff_model import Rep
from nurture.core.windows import END_OF_DAY, as_utc, in_window, local_to_utc, next_send_time

# A 1-minute working day and a month-long SLA still end well within this many stretches.
_MAX_STRETCHES = 100_000


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(rep: Rep, instant: datetime) -> datetime:
    return as_utc(instant).astimezone(zone(rep.time_zone))


def local_day(rep: Rep, instant: datetime) -> str:
    """The rep's own date at ``instant`` (ISO), which daily caps count by."""
    return local_time(rep, instant).date().isoformat()


def at_work(rep: Rep, instant: datetime) -> bool:
    return rep.hours is None or in_window(rep.hours, zone(rep.time_zone), instant)


def working_deadline(rep: Rep, start: datetime, hours: timedelta) -> datetime:
    """The instant (UTC) at which ``hours`` of ``rep``'s working time have passed since
    ``start``. Time outside their hours and days off does not count; across a DST change
    an hour of work is an hour of real time."""
    start = as_utc(start)
    if hours < timedelta(0):
        raise ValueError(f"working time must not be negative, got {hours}")
    if rep.hours is None:
        return start + hours
    window, tz = rep.hours, zone(rep.time_zone)
    cursor, left = start, hours
    for _ in range(_MAX_STRETCHES):
        if not in_window(window, tz, cursor):
            cursor = next_send_time(window, tz, cursor)
        end = _stretch_end(window, tz, cursor)
        if cursor + left <= end:
            return cursor + left
        left -= end - cursor
        cursor = end
    raise ValueError(f"{hours} of working time in {window} does not end within reach")


def _stretch_end(window: SendWindow, tz: ZoneInfo, inside: datetime) -> datetime:
    """When the working stretch holding ``inside`` ends: the wall clock reaching ``end`` on
    that local day (the later reading if the end repeats at fall-back and the first has
    passed), or midnight for a day that works to 24:00."""
    today = inside.astimezone(tz).date()
    if window.end == END_OF_DAY:
        return _instants(today + timedelta(days=1), time(0), tz, after=inside)
    return _instants(today, window.end, tz, after=inside)


def _instants(day: date, wall: time, tz: ZoneInfo, *, after: datetime) -> datetime:
    """The first instant after ``after`` showing ``wall`` on ``day``: in a spring-forward gap
    the end of the gap; a time repeated at fall-back has two readings."""
    local = datetime.combine(day, wall)
    readings = [local_to_utc(local, tz)]
    second = local.replace(tzinfo=tz, fold=1)
    if second.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local:
        readings.append(second.astimezone(UTC))
    later = sorted(t for t in readings if t > after)
    # Unreachable for a valid window (``after`` is before its end); never loop in place.
    return later[0] if later else after + timedelta(minutes=1)
