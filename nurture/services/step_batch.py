"""Loading a chunk of due enrollments at once: their rows locked, and everything the guards
and the stepping core read about their leads, in five queries whatever the chunk's size.

One query per kind of fact instead of several per enrollment is what lets a worker step
thousands of enrollments a second (bench/send_loop.py). Rows are locked leads first, then
enrollments, each in id order, so two transactions locking overlapping sets wait for each
other instead of deadlocking (DESIGN: per-lead work is serialised). The lock is FOR NO KEY
UPDATE: it serialises every service that changes a lead, yet lets a webhook insert events
that reference the lead meanwhile (their foreign key takes only a KEY SHARE lock).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, select
from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.core.stepping import EventSeen, Situation
from nurture.services.engagement_match import one_of
from nurture.services.situation import COUNTED_STATUSES, profile_of, zone_of
from nurture.store.models import Account, Enrollment, Event, Lead, Message

EventRow = tuple[str, datetime, str | None, int | None]  # type, when, step id, its enrollment


@dataclass
class Chunk:
    """Locked enrollments (id order) and what is known about their leads."""

    enrollments: list[Enrollment]
    leads: dict[int, Lead]
    accounts: dict[int, Account] = field(default_factory=dict)
    events: dict[int, list[EventRow]] = field(default_factory=dict)
    sends: dict[int, list[datetime]] = field(default_factory=dict)
    visits: dict[tuple[int, str], int] = field(default_factory=dict)

    def situation(
        self, funnel: Funnel, lead: Lead, enrollment: Enrollment, now: datetime
    ) -> Situation:
        """Real (non-machine) events since the enrollment began; a step id is attached to
        those about an email of this enrollment."""
        events = tuple(
            EventSeen(kind, step if owner == enrollment.id else None, at)
            for kind, at, step, owner in self.events.get(lead.id, ())
            if at >= enrollment.started_at
        )
        return Situation(
            now=now,
            zone=zone_of(lead.time_zone),
            attributes=profile_of(lead).facts(),
            stage=lead.stage,
            ladder=funnel.ladder,
            started_at=enrollment.started_at,
            entered_at=enrollment.step_entered_at,
            events=events,
        )

    def recent_sends(self, lead_id: int) -> list[datetime]:
        """When the lead was last emailed (all sequences), for the frequency cap."""
        return self.sends.get(lead_id, [])

    def account(self, lead: Lead) -> Account | None:
        return self.accounts.get(lead.account_id) if lead.account_id is not None else None

    def occurrence(self, enrollment_id: int, step_id: str) -> int:
        """1 for a step's first email in this enrollment, 2 when a loop comes back to it..."""
        return self.visits.get((enrollment_id, step_id), 0) + 1


def load_chunk(
    session: Session, enrollment_ids: Sequence[int], now: datetime, cap_period: timedelta
) -> Chunk:
    """Lock the enrollments and their leads and read the rest; ids not found are skipped."""
    ids = sorted(set(enrollment_ids))
    lead_ids = select(Enrollment.lead_id).where(_one_of(session, Enrollment.id, ids))
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead)
            .where(Lead.id.in_(lead_ids))
            .order_by(Lead.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    }
    enrollments = list(
        session.scalars(
            select(Enrollment)
            .where(_one_of(session, Enrollment.id, ids))
            .order_by(Enrollment.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    chunk = Chunk(enrollments, leads)
    live = [e for e in enrollments if e.next_run_at is not None and e.next_run_at <= now]
    if not live:
        return chunk
    live_leads = sorted({e.lead_id for e in live})
    account_ids = {leads[i].account_id for i in live_leads} - {None}
    if account_ids:
        chunk.accounts = {
            a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))
        }
    chunk.events = _events(session, live_leads, min(e.started_at for e in live))
    chunk.sends, chunk.visits = _messages(session, live_leads, now - cap_period)
    return chunk


def _one_of(session: Session, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids``, as one array parameter on PostgreSQL (``engagement_match.one_of``):
    SQLAlchemy renders an IN list of 50 anew for every statement, which cost more than
    running these queries (an empty events query took 2 ms of Python per chunk)."""
    return one_of(session, column, ids, BigInteger())


def _events(session: Session, lead_ids: list[int], since: datetime) -> dict[int, list[EventRow]]:
    found: dict[int, list[EventRow]] = defaultdict(list)
    rows = session.execute(
        select(Event.lead_id, Event.type, Event.occurred_at, Message.step_id, Message.enrollment_id)
        .outerjoin(Message, Event.message_id == Message.id)
        .where(
            _one_of(session, Event.lead_id, lead_ids),
            Event.machine.is_(False),
            Event.occurred_at >= since,
        )
    )
    for lead_id, kind, at, step, owner in rows:
        if lead_id is not None:
            found[lead_id].append((kind, at, step, owner))
    return found


def _messages(
    session: Session, lead_ids: list[int], since: datetime
) -> tuple[dict[int, list[datetime]], dict[tuple[int, str], int]]:
    """From one read of the leads' messages: when each lead was emailed since ``since``
    (what the frequency cap counts), and how many emails each enrollment's steps sent."""
    sends: dict[int, list[datetime]] = defaultdict(list)
    visits: dict[tuple[int, str], int] = defaultdict(int)
    rows = session.execute(
        select(
            Message.lead_id,
            Message.enrollment_id,
            Message.step_id,
            Message.created_at,
            Message.status,
        ).where(_one_of(session, Message.lead_id, lead_ids))
    )
    for lead_id, enrollment_id, step_id, created_at, status in rows:
        visits[(enrollment_id, step_id)] += 1
        if created_at > since and status in COUNTED_STATUSES:
            sends[lead_id].append(created_at)
    return sends, visits
