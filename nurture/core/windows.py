"""Send windows: when an email may go out, judged by the wall clock in the lead's zone.

Instants in and out are timezone-aware and returned in UTC; a naive datetime is a
programming mistake (``TypeError``), never silently taken as UTC or local time.

Local times that do not exist or exist twice are resolved one way everywhere (waits too):

* a wall time in a spring-forward gap (02:30 in Paris on 2026-03-29) means the first
  instant after it that exists: the end of the gap (03:00 CEST);
* a wall time repeated at fall-back means its first occurrence (``fold=0``).

A window is ``start <= local time < end`` on its days. It never crosses midnight: config
validation refuses ``start >= end`` and so does ``next_send_time``, since "22:00-06:00 on
Fridays" would leave open which day the early hours belong to. Membership is pure
wall-clock, so at fall-back a window inside the repeated hour opens twice.

An end of ``time.max`` (``END_OF_DAY``, written ``24:00`` in nurture.yaml) means the window
runs to midnight and includes the day's last instant: ``00:00-24:00`` on every day is
always open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nurture.core.funnel import SendWindow

END_OF_DAY = time.max  # 24:00: a window ending here includes 23:59:59.999999

# Zone offsets never change twice within this span (true of every zone in the tz database),
# so checking the offset at this step finds every change; a bisection pins each one down.
_OFFSET_SCAN_STEP = timedelta(hours=6)
# The next opening is always within two weeks, even when a whole day falls in a gap.
_HORIZON_DAYS = 15


def as_utc(instant: datetime) -> datetime:
    """The same instant in UTC; refuse naive datetimes, whose zone is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise TypeError(f"expected a timezone-aware datetime, got naive {instant!r}")
    return instant.astimezone(UTC)


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of naive wall time ``local`` in ``zone``: gap -> end of gap, fold -> first."""
    if local.tzinfo is not None:
        raise TypeError(f"expected a naive wall-clock datetime, got {local!r}")
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap, fold=0 reads the wall time with the offset before the change and fold=1 with
    # the offset after, which brackets the change: the end of the gap lies between them.
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, other), max(first, other)
    change = _first_offset_change(zone, lo, hi)
    return change if change is not None else hi


def in_window(window: SendWindow, zone: ZoneInfo, instant: datetime) -> bool:
    """Whether ``instant`` falls on an allowed day and hour in the lead's zone."""
    local = as_utc(instant).astimezone(zone)
    wall = local.time()
    before_end = wall < window.end or window.end == END_OF_DAY
    return local.weekday() in window.days and window.start <= wall and before_end


def next_send_time(window: SendWindow, zone: ZoneInfo, now: datetime) -> datetime:
    """``now`` if the window is open, else the instant it next opens, in UTC.

    The window can only open where the wall clock reaches ``start`` on an allowed day or
    where the zone's offset changes (the clock jumps into the window). Every such instant
    in the horizon is a candidate; the earliest one that is inside the window wins.
    """
    _check_window(window)
    now = as_utc(now)
    if in_window(window, zone, now):
        return now
    today = now.astimezone(zone).date()
    days = [today + timedelta(days=i) for i in range(-1, _HORIZON_DAYS + 1)]
    candidates = [
        t for day in days if day.weekday() in window.days for t in _starts(window, zone, day)
    ]
    candidates += _offset_changes(zone, now, now + timedelta(days=_HORIZON_DAYS + 2))
    opening = [t for t in candidates if t >= now and in_window(window, zone, t)]
    if not opening:  # unreachable for a valid window; guards an endless wait
        raise ValueError(f"send window {window} does not open within {_HORIZON_DAYS} days")
    return min(opening)


def _check_window(window: SendWindow) -> None:
    if not window.days or not window.days <= set(range(7)):
        raise ValueError(f"send window days must be a non-empty subset of 0-6, got {window.days}")
    if window.start >= window.end:
        raise ValueError(
            f"send window must start before it ends (no windows across midnight), "
            f"got {window.start}-{window.end}"
        )


def _starts(window: SendWindow, zone: ZoneInfo, day: date) -> list[datetime]:
    """Both readings (folds) of ``start`` on ``day``. In a gap neither shows ``start``:
    harmless, as candidates need only include every opening and the caller checks each."""
    wall = datetime.combine(day, window.start)
    return [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]


def _offset_changes(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[datetime]:
    """Every instant in (lo, hi] at which the zone's UTC offset changes."""
    changes = []
    left, before = lo, _offset(zone, lo)
    while left < hi:
        right = min(left + _OFFSET_SCAN_STEP, hi)
        after = _offset(zone, right)
        if after != before:
            changes.append(_bisect_change(zone, left, right, before))
        left, before = right, after
    return changes


def _first_offset_change(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime | None:
    """The first instant in (lo, hi] whose offset differs from lo's, if the ends differ."""
    before = _offset(zone, lo)
    return None if _offset(zone, hi) == before else _bisect_change(zone, lo, hi, before)


def _bisect_change(
    zone: ZoneInfo, lo: datetime, hi: datetime, before: timedelta | None
) -> datetime:
    """Offsets change on whole seconds, so bisecting on seconds finds the exact instant."""
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp()) + 1
    while hi_s - lo_s > 1:  # offset(lo_s) == before, offset(hi_s) != before
        mid = (lo_s + hi_s) // 2
        if _offset(zone, datetime.fromtimestamp(mid, UTC)) == before:
            lo_s = mid
        else:
            hi_s = mid
    return datetime.fromtimestamp(hi_s, UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()
