"""The only place that reads the wall clock (DESIGN invariant 5)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock tests and the demo move by hand."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise TypeError("FrozenClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)


SYSTEM_CLOCK: Clock = SystemClock()


class ScaledClock:
    """A demo clock on which time passes ``speed`` times faster than real time, from the
    moment it was made (``nurture run --clock-speed 3600``: an hour a second)."""

    def __init__(self, speed: float, base: Clock = SYSTEM_CLOCK) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._origin = base.now()
        self._started = time.monotonic()

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._started
        return self._origin + timedelta(seconds=elapsed * self.speed)
