"""Durations written the way marketers write them: ``90m``, ``2d``, ``1w``, ``1d12h``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(\d+\s*[smhdw]\s*)+$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

DURATION_HINT = "a duration such as 30m, 4h, 2d, 1w or 1d12h"


def parse_duration(text: str) -> timedelta:
    """Parse ``2d`` style text; raise ValueError naming the accepted forms."""
    if not _WHOLE.match(text):
        raise ValueError(f"{text!r} is not {DURATION_HINT}")
    total = timedelta()
    for amount, unit in _PART.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero: {DURATION_HINT}")
    return total


def format_duration(delta: timedelta) -> str:
    """``30d``, ``1d12h``: days as marketers write them (``30d``, not ``4w2d``); weeks only
    for whole weeks."""
    seconds = int(delta.total_seconds())
    if seconds and seconds % 604800 == 0:
        return f"{seconds // 604800}w"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"
