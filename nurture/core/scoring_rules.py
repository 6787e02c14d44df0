"""Engagement rules: which events a filter matches, caps over rolling periods, and decay.

Callers pass real events only (machine events removed), in chronological order
(``occurred_at``, then id), all at or before ``now``.
"""

from __future__ import annotations

import fnmatch
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nurture.core.scoring_card import Contribution
from nurture.core.scoring_model import Decay, EngagementRule, EventFilter, ScoredEvent

# Delivery outcomes are things that happened to an email, not things the lead did: rules may
# still score them (a hard bounce may cost points) but they never make a lead "active".
DELIVERY_TYPES = frozenset({"delivered", "deferred", "dropped", "bounced"})


def is_engagement(event: ScoredEvent) -> bool:
    """Something the lead did: a real event that is not a delivery outcome."""
    return not event.machine and event.type not in DELIVERY_TYPES


def matches(flt: EventFilter, event: ScoredEvent) -> bool:
    """Type equal; ``url`` a case-insensitive glob on the full URL; ``step`` equal; each
    ``data`` key equal to the event's value (text compared case-insensitively): a field of
    a provider's event, or one of the ``properties`` a website posted with its event."""
    if event.type.casefold() != flt.type.casefold():
        return False
    if flt.url is not None and (
        event.url is None or not fnmatch.fnmatchcase(event.url.casefold(), flt.url.casefold())
    ):
        return False
    if flt.step is not None and event.step != flt.step:
        return False
    return all(_same(_field(event.data, key), want) for key, want in flt.data.items())


def _field(data: Mapping[str, Any], key: str) -> object:
    """``data[key]``, else the website's ``properties[key]`` (POST /v1/events stores what
    the site sent under ``properties``: ``{form: contact-sales}`` must match its form)."""
    if key in data:
        return data[key]
    properties = data.get("properties")
    return properties.get(key) if isinstance(properties, Mapping) else None


def _same(actual: object, want: object) -> bool:
    if isinstance(actual, str) and isinstance(want, str):
        return actual.casefold() == want.casefold()
    return actual == want


def decay_factor(decay: Decay, since: datetime, now: datetime) -> float:
    """What one point earned at ``since`` is worth at ``now``: halved every half-life."""
    if decay.half_life is None or since >= now:
        return 1.0
    return math.pow(0.5, (now - since) / decay.half_life)


@dataclass(frozen=True)
class RuleTally:
    """One rule's exact (unrounded) totals, before they become a ``Contribution``."""

    rule: EngagementRule
    points: float
    raw: float
    events: int
    last: ScoredEvent | None
    earned_positive: bool

    def contribution(self) -> Contribution:
        return Contribution(
            rule=self.rule.name,
            kind="engagement",
            points=round(self.points, 1),
            raw=round(self.raw, 1),
            events=self.events,
            last_event_id=self.last.id if self.last is not None else None,
        )


def tally(
    rule: EngagementRule, events: Sequence[ScoredEvent], decay: Decay, now: datetime
) -> RuleTally | None:
    """Points of ``rule`` over ``events``; None when it matched nothing.

    Under a cap, an event counts only as far as the rule's counted points within the
    rolling period ``(occurred_at - per, occurred_at]`` stay within ``cap.points`` (by
    size, so a cap also limits a negative rule); the last event may count in part.
    """
    points = raw = 0.0
    count = 0
    last: ScoredEvent | None = None
    earned_positive = False
    window: deque[tuple[datetime, float]] = deque()
    for event in events:
        if not matches(rule.match, event):
            continue
        count += 1
        last = event
        counted = rule.points
        if rule.cap is not None:
            while window and window[0][0] <= event.occurred_at - rule.cap.per:
                window.popleft()
            room = max(0.0, rule.cap.points - sum(abs(p) for _, p in window))
            counted = math.copysign(min(abs(rule.points), room), rule.points)
            if counted != 0:  # a zero adds nothing to the sum: the window stays short
                window.append((event.occurred_at, counted))
        if counted == 0:
            continue
        earned_positive = earned_positive or counted > 0
        raw += counted
        points += counted * (decay_factor(decay, event.occurred_at, now) if rule.decays else 1)
    if count == 0:
        return None
    return RuleTally(rule, points, raw, count, last, earned_positive)
