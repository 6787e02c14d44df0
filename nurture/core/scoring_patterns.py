"""Behaviour patterns (repeat visits, several sessions, a comeback) and account signals.

A pattern awards its points each time it completes; the points decay like engagement from
the moment of completion. Callers pass real events only, in chronological order, all at or
before ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from nurture.core.scoring_card import Contribution
from nurture.core.scoring_model import (
    AccountActivity,
    AccountSignal,
    Decay,
    Pattern,
    PatternKind,
    ScoredEvent,
)
from nurture.core.scoring_rules import decay_factor, is_engagement, matches

SESSION_GAP = timedelta(minutes=30)  # a pause this long or longer starts a new visit
ACCOUNT_RULE = "account activity"


def completions(pattern: Pattern, events: Sequence[ScoredEvent]) -> list[ScoredEvent]:
    """The events at which ``pattern`` completed, oldest first."""
    engaged = [e for e in events if is_engagement(e)]
    flt = pattern.match
    candidates = engaged if flt is None else [e for e in events if matches(flt, e)]
    if pattern.kind is PatternKind.REPEAT_VISITS:
        return _every_count(candidates, pattern.count, pattern.within)
    if pattern.kind is PatternKind.SESSIONS:
        return _every_count(_visit_starts(candidates), pattern.count, pattern.within)
    if pattern.kind is PatternKind.COMEBACK:
        return _comebacks(engaged, pattern)
    raise TypeError(f"unknown pattern kind {pattern.kind!r}")


def _every_count(
    events: Sequence[ScoredEvent], count: int, within: timedelta | None
) -> list[ScoredEvent]:
    """Each time ``count`` events fall within ``within`` (ending at the newest), the
    newest completes the pattern and counting starts afresh after it."""
    done: list[ScoredEvent] = []
    pending: list[ScoredEvent] = []
    for event in events:
        pending.append(event)
        if within is not None:
            pending = [p for p in pending if event.occurred_at - p.occurred_at < within]
        if len(pending) >= max(count, 1):
            done.append(event)
            pending = []
    return done


def _visit_starts(events: Sequence[ScoredEvent]) -> list[ScoredEvent]:
    """The first event of each visit: a visit runs while events are < 30 minutes apart."""
    starts: list[ScoredEvent] = []
    previous: datetime | None = None
    for event in events:
        if previous is None or event.occurred_at - previous >= SESSION_GAP:
            starts.append(event)
        previous = event.occurred_at
    return starts


def _comebacks(engaged: Sequence[ScoredEvent], pattern: Pattern) -> list[ScoredEvent]:
    """The event that ends a quiet of at least ``quiet_for`` after earlier engagement (and
    matches ``pattern.match``, if given)."""
    if pattern.quiet_for is None:
        return []
    done: list[ScoredEvent] = []
    previous: datetime | None = None
    for event in engaged:
        quiet = previous is not None and event.occurred_at - previous >= pattern.quiet_for
        if quiet and (pattern.match is None or matches(pattern.match, event)):
            done.append(event)
        previous = event.occurred_at
    return done


def pattern_contribution(
    pattern: Pattern, events: Sequence[ScoredEvent], decay: Decay, now: datetime
) -> tuple[Contribution, float] | None:
    """The pattern's contribution and its exact points; None if it never completed."""
    done = completions(pattern, events)
    if not done:
        return None
    points = sum(pattern.points * decay_factor(decay, e.occurred_at, now) for e in done)
    contribution = Contribution(
        rule=pattern.name,
        kind="pattern",
        points=round(points, 1),
        raw=round(pattern.points * len(done), 1),
        events=len(done),
        last_event_id=done[-1].id,
    )
    return contribution, points


def account_contribution(
    signal: AccountSignal,
    events: Sequence[ScoredEvent],
    activity: Sequence[AccountActivity],
    lead_id: int | None,
    decay: Decay,
    now: datetime,
) -> tuple[Contribution, float] | None:
    """``signal.points`` when at least ``min_contacts`` distinct leads of the account
    engaged within ``(now - window, now]``: this lead if it has an engagement event there,
    plus every other lead with activity there. The points decay from the newest of those
    activities; ``events`` is the number of engaged contacts."""
    start = now - signal.window
    own = [e for e in events if is_engagement(e) and start < e.occurred_at <= now]
    others = [a for a in activity if a.lead_id != lead_id and start < a.occurred_at <= now]
    contacts = len({a.lead_id for a in others}) + (1 if own else 0)
    if contacts < max(signal.min_contacts, 1):
        return None
    latest = max([e.occurred_at for e in own] + [a.occurred_at for a in others])
    points = signal.points * decay_factor(decay, latest, now)
    contribution = Contribution(
        rule=ACCOUNT_RULE,
        kind="account",
        points=round(points, 1),
        raw=round(signal.points, 1),
        events=contacts,
        last_event_id=own[-1].id if own else None,
    )
    return contribution, points
