"""How long handoffs wait: medians and 90th percentiles of delays, and speed to lead (the
time to the rep's first answer) with the share answered within 5 minutes, 1 hour and 1 day.
Pure; ``handoff_stats`` collects the delays."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nurture.core.backtest_report import percentile

__all__ = ["BUCKETS", "LIMITS", "Bucket", "Durations", "SpeedToLead", "Within", "durations"]

#: Speed-to-lead limits: 5 minutes is the study's mark (21x the odds of 30 minutes).
LIMITS: tuple[tuple[str, timedelta], ...] = (
    ("5 minutes", timedelta(minutes=5)),
    ("1 hour", timedelta(hours=1)),
    ("1 day", timedelta(days=1)),
)
#: Buckets of the speed-to-lead distribution, each up to (and including) its limit.
BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("≤5m", timedelta(minutes=5)),
    ("5-30m", timedelta(minutes=30)),
    ("30m-1h", timedelta(hours=1)),
    ("1-4h", timedelta(hours=4)),
    ("4-24h", timedelta(days=1)),
    ("1-3d", timedelta(days=3)),
    (">3d", timedelta.max),
)


@dataclass(frozen=True)
class Durations:
    count: int
    median: timedelta | None
    p90: timedelta | None

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "median_s": _seconds(self.median), "p90_s": _seconds(self.p90)}


@dataclass(frozen=True)
class Within:
    label: str
    limit: timedelta
    answered: int  # first answer at most ``limit`` after the handoff
    known: int  # handoffs whose fate at ``limit`` is known

    @property
    def share(self) -> float | None:
        return self.answered / self.known if self.known else None

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "limit": self.label,
            "limit_s": int(self.limit.total_seconds()),
            "answered": self.answered,
            "known": self.known,
            "share": None if share is None else round(share, 4),
        }


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int


@dataclass(frozen=True)
class SpeedToLead:
    durations: Durations
    within: tuple[Within, ...]
    buckets: tuple[Bucket, ...]  # answered handoffs by delay, then "open"

    @classmethod
    def of(cls, delays: Sequence[timedelta], waiting: Sequence[timedelta]) -> SpeedToLead:
        """From the first-answer ``delays`` of the answered handoffs and the ages of those
        still ``waiting``. A waiting handoff counts toward a limit's share once it is older
        than the limit (before that it may still be answered in time)."""
        within = tuple(
            Within(
                label,
                limit,
                answered=sum(d <= limit for d in delays),
                known=len(delays) + sum(age >= limit for age in waiting),
            )
            for label, limit in LIMITS
        )
        counted = Counter(next(name for name, top in BUCKETS if d <= top) for d in delays)
        buckets = (
            *(Bucket(name, counted[name]) for name, _ in BUCKETS),
            Bucket("open", len(waiting)),
        )
        return cls(durations(delays), within, buckets)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.durations.as_dict(),
            "within": [w.as_dict() for w in self.within],
            "distribution": {b.label: b.count for b in self.buckets},
        }


def durations(delays: Sequence[timedelta]) -> Durations:
    """Median and 90th percentile (linear between ranks); a negative delay counts as 0."""
    seconds = sorted(max(d.total_seconds(), 0.0) for d in delays)
    median, p90 = percentile(seconds, 50), percentile(seconds, 90)
    return Durations(
        len(seconds),
        None if median is None else timedelta(seconds=median),
        None if p90 is None else timedelta(seconds=p90),
    )


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds(), 1)
