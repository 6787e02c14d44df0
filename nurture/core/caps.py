"""The frequency cap: at most ``max_emails`` marketing emails per rolling ``period``.

The period is elapsed time, not calendar days in the lead's zone: the cap protects the
inbox from bursts, and a rolling week is 7 x 24 hours whatever the clocks do. A send counts
while it is in ``(t - period, t]``; sends recorded in the future (another machine's clock
ahead of ours) count too, since they were real emails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from nurture.core.funnel import FrequencyCap
from nurture.core.windows import as_utc


def sends_in_period(cap: FrequencyCap, sends: Sequence[datetime], at: datetime) -> int:
    """How many sends count against the cap at ``at`` (future sends included)."""
    since = as_utc(at) - cap.period
    return sum(1 for s in sends if as_utc(s) > since)


def cap_release(
    cap: FrequencyCap, recent_sends: Sequence[datetime], now: datetime
) -> datetime | None:
    """None if one more email may go out now, else the first instant one may.

    That instant is when the ``max_emails``-th most recent send leaves the period: from
    then on at most ``max_emails - 1`` sends count, so sending keeps it at ``max_emails``.
    Order of ``recent_sends`` does not matter.
    """
    if cap.max_emails < 1 or cap.period <= timedelta(0):
        raise ValueError(f"a frequency cap needs max_emails >= 1 and a positive period: {cap}")
    now = as_utc(now)
    newest_first = sorted((as_utc(s) for s in recent_sends), reverse=True)
    if sends_in_period(cap, newest_first, now) < cap.max_emails:
        return None
    return newest_first[cap.max_emails - 1] + cap.period
