"""Storing the opens and clicks our own tracking sees, classified person vs machine, and the
one-row event insert the subscription service shares.

    with database.unit_of_work() as uow:
        record_click(uow.session, uow.jobs, claim, now=now, user_agent=ua, ip=ip, method="GET")

Each request is its own event (``source_event_id`` a fresh uuid): two clicks are two clicks.
Machine events (HEAD probes, security scanners, Apple Mail Privacy Protection, clicks within
seconds of the send) are stored with the reason and do not count as engagement
(``nurture.core.bots``). What follows is the webhook path's (``engagement.store_events``): a
person's open or click wakes the lead's ``wait_for`` at once, and ``process_engagement`` is
enqueued for after commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.core.bots import DEFAULT_THRESHOLDS, Click, classify
from nurture.core.scoring_model import HandRaiser
from nurture.mail.tokens import TrackingClaim
from nurture.services.enrollment import wake_waiting
from nurture.services.lanes import enqueue_by_lane
from nurture.services.uow import Jobs
from nurture.store.models import Event, Message

SOURCE = "tracking"
#: How far back other clicks of the same message are read for the burst rule.
BURST_LOOKBACK = max(DEFAULT_THRESHOLDS.burst_window * 2, timedelta(seconds=5))
_REASON_SIZE = 100  # the machine_reason column
_IP_SIZE = 64  # the ip column
_AGENT_SIZE = 1000  # a user agent longer than this is junk; keep the start


def record_open(
    session: Session,
    jobs: Jobs,
    claim: TrackingClaim,
    *,
    now: datetime,
    user_agent: str | None,
    ip: str | None,
    method: str = "GET",
    hand_raisers: tuple[HandRaiser, ...] = (),
) -> bool:
    """Store an ``opened`` event; False (nothing stored) if the message is gone."""
    return _record(session, jobs, "opened", claim, now, user_agent, ip, method, hand_raisers)


def record_click(
    session: Session,
    jobs: Jobs,
    claim: TrackingClaim,
    *,
    now: datetime,
    user_agent: str | None,
    ip: str | None,
    method: str = "GET",
    hand_raisers: tuple[HandRaiser, ...] = (),
) -> bool:
    """Store a ``clicked`` event with the link's URL; False if the message is gone. A click
    one of ``hand_raisers`` matches (a demo link) takes the fast lane (``lanes``)."""
    return _record(session, jobs, "clicked", claim, now, user_agent, ip, method, hand_raisers)


def insert_event(
    session: Session,
    *,
    lead_id: int,
    message_id: int | None,
    type: str,
    source: str,
    source_event_id: str,
    occurred_at: datetime,
    received_at: datetime | None = None,
    url: str | None = None,
    user_agent: str | None = None,
    ip: str | None = None,
    machine: bool = False,
    machine_reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Insert one event unless ``(source, source_event_id)`` is stored already; whether it
    was new. ON CONFLICT DO NOTHING keeps the transaction usable after a duplicate (a
    failed INSERT would abort it on PostgreSQL)."""
    values = {
        "lead_id": lead_id,
        "message_id": message_id,
        "type": type,
        "source": source,
        "source_event_id": source_event_id,
        "occurred_at": occurred_at,
        "received_at": received_at or occurred_at,
        "url": url,
        "user_agent": user_agent,
        "ip": ip,
        "machine": machine,
        "machine_reason": machine_reason,
        "data": data or {},
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Event)
        .values(values)
        .on_conflict_do_nothing(index_elements=["source", "source_event_id"])
        .returning(Event.id)
    )
    return session.scalar(statement) is not None


def _record(
    session: Session,
    jobs: Jobs,
    kind: str,
    claim: TrackingClaim,
    now: datetime,
    user_agent: str | None,
    ip: str | None,
    method: str,
    hand_raisers: tuple[HandRaiser, ...],
) -> bool:
    message = session.execute(
        select(Message.lead_id, Message.sent_at).where(Message.id == claim.message_id)
    ).one_or_none()
    if message is None or message.lead_id != claim.lead_id:
        return False
    agent = user_agent[:_AGENT_SIZE] if user_agent else None
    machine, reason = classify(
        kind,
        occurred_at=now,
        user_agent=agent,
        ip=ip,
        method=method,
        delivered_at=message.sent_at,
        url=claim.url,
        other_clicks=_recent_clicks(session, claim.message_id, now) if kind == "clicked" else (),
    )
    stored = insert_event(
        session,
        lead_id=claim.lead_id,
        message_id=claim.message_id,
        type=kind,
        source=SOURCE,
        source_event_id=uuid.uuid4().hex,
        occurred_at=now,
        url=claim.url,
        user_agent=agent,
        ip=ip[:_IP_SIZE] if ip else None,
        machine=machine,
        machine_reason=reason[:_REASON_SIZE] if reason else None,
        data={"method": method.upper()},
    )
    if stored:
        if not machine:
            wake_waiting(session, [claim.lead_id], now)
        row = {"lead_id": claim.lead_id, "type": kind, "occurred_at": now, "url": claim.url}
        row |= {"machine": machine, "data": {"method": method.upper()}}
        enqueue_by_lane(jobs, hand_raisers, [row], [claim.lead_id], 1)
    return stored


def _recent_clicks(session: Session, message_id: int, now: datetime) -> list[Click]:
    """Other tracked clicks on the message close to ``now`` (several links at once: scanner)."""
    rows = session.execute(
        select(Event.occurred_at, Event.url).where(
            Event.message_id == message_id,
            Event.type == "clicked",
            Event.source == SOURCE,
            Event.occurred_at >= now - BURST_LOOKBACK,
        )
    )
    return [Click(at=row.occurred_at, url=row.url) for row in rows]
