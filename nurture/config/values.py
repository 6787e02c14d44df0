"""Readers for the funnel's own small languages: event names, clock times, addresses, zones."""

from __future__ import annotations

import re
from datetime import time
from email.utils import parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email

from nurture.config.nodes import Node
from nurture.config.problems import did_you_mean

EVENTS = ("opened", "clicked", "replied", "visited", "submitted", "unsubscribed")
EVENT_HINT = "one of " + ", ".join(EVENTS) + ", or custom:NAME (e.g. custom:webinar_attended)"
_CUSTOM_EVENT = re.compile(r"^custom:[A-Za-z0-9_.-]+$")

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = r"([01]?\d|2[0-3]):([0-5]\d)"
_UNTIL = re.compile(rf"^(?:({'|'.join(DAYS)})\s+)?{_CLOCK}$")
_HOURS = re.compile(rf"^{_CLOCK}\s*-\s*(?:{_CLOCK}|(24:00))$")
UNTIL_HINT = 'a time such as "10:00" or a weekday and time such as "tue 10:00"'
HOURS_HINT = (
    'hours such as "09:00-17:00", or "00:00-24:00" for the whole day (start before end, both HH:MM)'
)


def event(node: Node) -> str | None:
    """A known engagement event, or ``custom:NAME``."""
    value = node.value
    if isinstance(value, str) and (value in EVENTS or _CUSTOM_EVENT.match(value)):
        return value
    hint = did_you_mean(value, EVENTS) if isinstance(value, str) else None
    node.expected(EVENT_HINT, hint)
    return None


def until(node: Node) -> tuple[int | None, time] | None:
    """``tue 10:00`` -> (1, 10:00); ``10:00`` -> (None, 10:00)."""
    found = _UNTIL.match(node.value) if isinstance(node.value, str) else None
    if found is None:
        node.expected(UNTIL_HINT)
        return None
    day, hour, minute = found.groups()
    return (DAYS.index(day) if day else None), time(int(hour), int(minute))


def hours(node: Node) -> tuple[time, time] | None:
    """``"09:00-17:00"`` -> (09:00, 17:00). An end of ``24:00`` is the end of the day,
    ``time.max``: ``"00:00-24:00"`` is the whole day (see nurture.core.windows)."""
    found = _HOURS.match(node.value) if isinstance(node.value, str) else None
    if found is not None:
        h1, m1, h2, m2, midnight = found.groups()
        start = time(int(h1), int(m1))
        end = time.max if midnight else time(int(h2), int(m2))
        if start < end:
            return start, end
    node.expected(HOURS_HINT)
    return None


def day(node: Node) -> int | None:
    value = node.value
    if isinstance(value, str) and value in DAYS:
        return DAYS.index(value)
    hint = did_you_mean(value.lower(), DAYS) if isinstance(value, str) else None
    node.expected("a day: " + ", ".join(DAYS), hint)
    return None


def email_address(node: Node) -> str | None:
    """A single address such as ``hello@example.com`` (syntax only, no DNS)."""
    if isinstance(node.value, str) and _valid_address(node.value.strip()):
        return node.value.strip()
    node.expected("an email address such as hello@example.com")
    return None


def mailbox(node: Node) -> tuple[str, str] | None:
    """``"Name <addr>"`` or ``addr`` -> (name, address)."""
    if isinstance(node.value, str):
        name, address = parseaddr(node.value)
        if address and _valid_address(address):
            return name, address
    node.expected('an address such as "Maya Chen <maya@example.com>" or maya@example.com')
    return None


def _valid_address(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    return True


def time_zone(node: Node) -> str | None:
    """An IANA zone name such as ``America/Chicago``."""
    value = node.value
    if isinstance(value, str):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return value
    hint = did_you_mean(value, _zones()) if isinstance(value, str) else None
    node.expected("an IANA time zone such as America/Chicago or Europe/Paris", hint)
    return None


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))
