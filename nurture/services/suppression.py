"""Contact status from provider signals: unsubscribe, complaint, hard bounce, soft bounces.

The decision is a pure function (``decide``) in the manner of Warehouse's ``EmailStatus``:
only an active (or unengaged) lead can be suppressed by an event, a suppressed lead stays
suppressed whatever arrives later (a delivery after a hard bounce is stored, nothing more),
and an event that
happened before the status last changed (a provider retry hours late, after the lead opted
in again) changes nothing: provider events are not ordered (DESIGN pitfall).
``apply_signals`` locks the leads in id order, applies the decisions and exits enrollments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.services.enrollment import exit_live_enrollments
from nurture.store.models import Event, Lead

#: Statuses an event can suppress from: unengaged (sunset) leads too, since an opt-out or a
#: dead mailbox must survive their re-engagement.
SUPPRESSIBLE = frozenset({"active", "unengaged"})
#: Canonical event types that can change a contact status.
SIGNAL_TYPES = frozenset({"unsubscribed", "complained", "bounced"})
#: An event of these kinds suppresses at once; soft bounces only past the policy's limit.
IMMEDIATE = {"unsubscribed": "unsubscribed", "complained": "complained", "hard": "bounced"}


@dataclass(frozen=True)
class SoftBouncePolicy:
    """``limit`` soft bounces within ``window`` of each other suppress the lead (bounced)."""

    limit: int = 3
    window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Signal:
    """A newly stored event that may change the lead's contact status."""

    kind: str  # "unsubscribed" | "complained" | "hard" | "soft"
    occurred_at: datetime
    source: str


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str
    at: datetime


def signal_kind(event_type: str, bounce: str | None) -> str | None:
    """The signal an event carries: its type, or the bounce kind for ``bounced``."""
    if event_type == "bounced":
        return bounce or "soft"  # a bounce of unknown kind counts as soft: never over-suppress
    return event_type if event_type in SIGNAL_TYPES else None


def decide(
    status: str,
    changed_at: datetime | None,
    signals: Iterable[Signal],
    soft_bounces: Sequence[datetime],
    policy: SoftBouncePolicy,
) -> Decision | None:
    """The lead's new status, or None to leave it. ``soft_bounces``: the lead's stored soft
    bounce times around the new ones (including them)."""
    if status not in SUPPRESSIBLE:
        return None  # already suppressed: a later signal is recorded, nothing more
    fresh = sorted(
        (s for s in signals if changed_at is None or s.occurred_at >= changed_at),
        key=lambda s: s.occurred_at,
    )
    for signal in fresh:
        if signal.kind in IMMEDIATE:
            what = "hard bounce" if signal.kind == "hard" else signal.kind
            return Decision(IMMEDIATE[signal.kind], f"{what} ({signal.source})", signal.occurred_at)
    if not any(s.kind == "soft" for s in fresh):
        return None
    times = sorted(t for t in soft_bounces if changed_at is None or t >= changed_at)
    for first, last in zip(times, times[policy.limit - 1 :], strict=False):
        if last - first <= policy.window:
            days = policy.window / timedelta(days=1)
            reason = f"{policy.limit} soft bounces within {days:g} days"
            return Decision("bounced", reason, last)
    return None


def apply_signals(
    session: Session,
    signals: Mapping[int, Sequence[Signal]],
    now: datetime,
    policy: SoftBouncePolicy,
) -> set[int]:
    """Suppress the leads these signals call for; return their ids. Takes the leads' row
    locks in id order first (DESIGN: per-lead work is serialised), so a concurrent step run
    or webhook sees the new status or waits for it."""
    if not signals:
        return set()
    leads = session.scalars(
        select(Lead)
        .where(Lead.id.in_(sorted(signals)))
        .order_by(Lead.id)
        .with_for_update(key_share=True)
    ).all()
    soft = _soft_bounce_times(session, signals, policy)
    suppressed: set[int] = set()
    for lead in leads:
        decision = decide(
            lead.contact_status,
            lead.contact_status_changed_at,
            signals[lead.id],
            soft.get(lead.id, []),
            policy,
        )
        if decision is None:
            continue
        lead.contact_status = decision.status
        lead.contact_status_changed_at = min(decision.at, now)
        lead.updated_at = now
        exit_live_enrollments(session, lead.id, decision.reason, now)
        suppressed.add(lead.id)
    return suppressed


def _soft_bounce_times(
    session: Session, signals: Mapping[int, Sequence[Signal]], policy: SoftBouncePolicy
) -> dict[int, list[datetime]]:
    """Stored soft bounces (the new ones included) of the leads that got one now, within a
    window either side of the new ones: one query on the (lead_id, occurred_at) index."""
    new = [s.occurred_at for ss in signals.values() for s in ss if s.kind == "soft"]
    lead_ids = sorted(lead for lead, ss in signals.items() if any(s.kind == "soft" for s in ss))
    if not lead_ids:
        return {}
    rows = session.execute(
        select(Event.lead_id, Event.occurred_at).where(
            Event.lead_id.in_(lead_ids),
            Event.occurred_at >= min(new) - policy.window,
            Event.occurred_at <= max(new) + policy.window,
            Event.type == "bounced",
            Event.bounce == "soft",
        )
    )
    times: dict[int, list[datetime]] = {}
    for lead_id, occurred_at in rows:
        if lead_id is not None:
            times.setdefault(lead_id, []).append(occurred_at)
    return times
