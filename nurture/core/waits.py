"""When a ``wait`` step is over, in the lead's zone, as a pure function of ``now``.

* ``2d``, ``1w`` (a whole number of days): calendar days on the lead's wall clock, so a wait
  that starts at 10:00 local ends at 10:00 local even across a DST change (47 or 49 hours).
  A marketer's "two days later" means the same time of day, not 48 elapsed hours.
* ``4h``, ``30m``, ``1d12h`` (anything else): elapsed time; "four hours" across a DST change
  is four real hours. ``timedelta`` cannot tell ``48h`` from ``2d``: both are calendar days.
* ``{business_days: N}``: the same local time N Monday-Friday days later; counting starts
  the day after ``now``, so Friday + 1 and Saturday + 1 are both Monday. No holidays.
* ``{until: "tue 10:00"}`` / ``{until: "10:00"}``: the next such local time strictly after
  ``now``; today if it is still ahead, else the next matching day.

Wall times in a DST gap or fold are resolved as in ``windows``: end of the gap, first of two.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from nurture.core.sequence import WaitFor
from nurture.core.windows import as_utc, local_to_utc

_DAY = timedelta(days=1)
_SATURDAY = 5


def wait_until(wait: WaitFor, zone: ZoneInfo, now: datetime) -> datetime:
    """The UTC instant at which ``wait`` started at ``now`` is over; always after ``now``."""
    now = as_utc(now)
    forms = [wait.duration is not None, wait.business_days is not None, wait.at is not None]
    if sum(forms) != 1 or (wait.weekday is not None and wait.at is None):
        raise ValueError(f"a wait needs exactly one of duration, business_days, at: {wait}")
    if wait.duration is not None:
        return _after_duration(wait.duration, zone, now)
    if wait.business_days is not None:
        return _after_business_days(wait.business_days, zone, now)
    assert wait.at is not None
    return _next_wall_time(wait.weekday, wait.at, zone, now)


def _after_duration(duration: timedelta, zone: ZoneInfo, now: datetime) -> datetime:
    if duration <= timedelta(0):
        raise ValueError(f"a wait must be longer than zero, got {duration}")
    if duration % _DAY:
        return now + duration
    return _later_same_wall_time(now, duration, zone)


def _after_business_days(count: int, zone: ZoneInfo, now: datetime) -> datetime:
    if count < 1:
        raise ValueError(f"a wait needs at least one business day, got {count}")
    days, left = 0, count
    weekday = now.astimezone(zone).weekday()
    while left:
        days += 1
        if (weekday + days) % 7 < _SATURDAY:
            left -= 1
    return _later_same_wall_time(now, days * _DAY, zone)


def _later_same_wall_time(now: datetime, days: timedelta, zone: ZoneInfo) -> datetime:
    """``now``'s wall time ``days`` later; elapsed time where the calendar fails to advance."""
    wall = now.astimezone(zone).replace(tzinfo=None, fold=0)
    later = local_to_utc(wall + days, zone)
    # Only a zone moving its clock back a whole day could land here; never wait for nothing.
    return later if later > now else now + days


def _next_wall_time(weekday: int | None, at: time, zone: ZoneInfo, now: datetime) -> datetime:
    if weekday is not None and weekday not in range(7):
        raise ValueError(f"weekday must be 0 (Monday) to 6, got {weekday}")
    if at.tzinfo is not None:
        raise TypeError(f"a wait's time of day is a local wall time, got {at!r}")
    today = now.astimezone(zone).date()
    for offset in range(22):  # three weeks: past a whole skipped day in the target week
        day = today + offset * _DAY
        if weekday is None or day.weekday() == weekday:
            instant = local_to_utc(datetime.combine(day, at), zone)
            if instant > now:
                return instant
    raise RuntimeError("unreachable: a weekday recurs every week")  # pragma: no cover
