"""Store provider events and act on them: the storage half of ``POST /webhooks/<provider>``.

``store_events`` runs in the caller's transaction and does constant work per batch, not per
event: three lookups to match events to messages and leads, one for other clicks, one insert
that skips what is already stored (``event_insert``: a provider retry is stored once), then
suppression and wake-ups for the newly stored events only, and one ``process_engagement``
job per chunk of leads (hand-raisers apart, ``lanes``), sent after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, func, select, text, update
from sqlalchemy.orm import Session

from nurture.core.bots import DEFAULT_THRESHOLDS, Click, classify
from nurture.core.funnel import Funnel
from nurture.core.scoring_model import HandRaiser
from nurture.ingest.events import InboundEvent
from nurture.services.account_peers import stale_account_peers, still_stale
from nurture.services.engagement_match import Match, match_events, one_of
from nurture.services.enrollment import wake_waiting
from nurture.services.event_insert import insert_events
from nurture.services.lanes import enqueue_by_lane
from nurture.services.scoring import Rescored, rescore_leads
from nurture.services.scoring_inputs import DELIVERY_TYPES
from nurture.services.suppression import Signal, SoftBouncePolicy, apply_signals, signal_kind
from nurture.services.uow import Jobs
from nurture.store.models import Event, Lead

#: Leads per process_engagement job.
JOB_CHUNK = 500


@dataclass(frozen=True)
class StoredCounts:
    """What happened to a batch: newly stored, already stored (a provider retry, or twice in
    the batch), matching no message and no lead (acknowledged, not stored)."""

    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0
    lead_ids: tuple[int, ...] = field(default=(), compare=False)


def store_events(
    session: Session,
    jobs: Jobs,
    events: Sequence[InboundEvent],
    now: datetime,
    policy: SoftBouncePolicy | None = None,
    hand_raisers: tuple[HandRaiser, ...] = (),
) -> StoredCounts:
    """Match, classify and store ``events``; suppress leads that unsubscribed, complained or
    bounced; wake their waiting enrollments; enqueue ``process_engagement`` (the fast lane
    for leads with an event one of ``hand_raisers`` matches). Never commits."""
    matches = match_events(session, events)
    matched = [(e, m) for e, m in zip(events, matches, strict=True) if m is not None]
    unmatched = len(events) - len(matched)
    unique: dict[tuple[str, str], tuple[InboundEvent, Match]] = {}
    for event, match in matched:
        unique.setdefault((event.provider, event.provider_event_id), (event, match))
    rows = _rows(session, list(unique.values()), now)
    new = insert_events(session, rows)
    counts = StoredCounts(len(new), len(matched) - len(new), unmatched)
    if not new:
        return counts
    signals: dict[int, list[Signal]] = {}
    real: set[int] = set()
    for row in new:
        lead_id = row["lead_id"]
        kind = signal_kind(row["type"], row["bounce"])
        if kind is not None:
            signals.setdefault(lead_id, []).append(Signal(kind, row["occurred_at"], row["source"]))
        if not row["machine"]:
            real.add(lead_id)
    suppressed = apply_signals(session, signals, now, policy or SoftBouncePolicy())
    waking = _maybe_waiting(session, sorted(real - suppressed))
    if waking:
        wake_waiting(session, waking, now)
    lead_ids = sorted({row["lead_id"] for row in new})
    enqueue_by_lane(jobs, hand_raisers, new, lead_ids, JOB_CHUNK)
    return StoredCounts(counts.stored, counts.duplicates, unmatched, tuple(lead_ids))


def process_engagement(
    session: Session, jobs: Jobs, funnel: Funnel, lead_ids: Iterable[int], now: datetime
) -> Rescored:
    """The work that follows new events of these leads: rescore them and apply the ladder
    (a stage change exits the old sequence and enrolls in the new one), then wake their
    enrollments waiting for an event (the step runner decides from the stored events whether
    the wait is over), and send colleagues whose account signal this engagement changed to
    be rescored too. Idempotent: running it twice changes nothing more."""
    ids = sorted(set(lead_ids))
    outcome = rescore_leads(session, jobs, funnel, ids, now)  # sets last_engaged_at too
    if funnel.scoring.empty:
        _touch_last_engaged(session, ids)
    wake_waiting(session, ids, now)
    peers = stale_account_peers(session, funnel.scoring, ids, now)
    for chunk in _chunks(peers, JOB_CHUNK):
        jobs.enqueue("rescore_account_peers", list(chunk))
    return outcome


def rescore_account_peers(
    session: Session, jobs: Jobs, funnel: Funnel, lead_ids: Iterable[int], now: datetime
) -> Rescored:
    """``process_engagement`` for colleagues another job sent: only those whose score still
    predates their account's latest engagement. In a backlog most were rescored by their own
    job in between, and rescoring them again would only repeat the work."""
    stale = still_stale(session, funnel.scoring, list(lead_ids), now)
    return process_engagement(session, jobs, funnel, stale, now)


def _touch_last_engaged(session: Session, lead_ids: list[int]) -> None:
    """``leads.last_engaged_at`` = their latest real engagement (the sunset reads it)."""
    if not lead_ids:
        return
    latest = (
        select(func.max(Event.occurred_at))
        .where(
            Event.lead_id == Lead.id,
            Event.machine.is_(False),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .scalar_subquery()
    )
    session.execute(
        update(Lead)
        .where(one_of(session, Lead.id, lead_ids, BigInteger()))
        .values(last_engaged_at=func.coalesce(latest, Lead.last_engaged_at))
        .execution_options(synchronize_session=False)
    )


def _maybe_waiting(session: Session, lead_ids: list[int]) -> list[int]:
    """The leads among ``lead_ids`` that have an enrollment waiting for an event (usually
    few or none), found on PostgreSQL with one array parameter: ``wake_waiting`` then
    builds its IN list for those only, not for every lead of the batch."""
    if not lead_ids or session.get_bind().dialect.name != "postgresql":
        return lead_ids
    found = session.execute(
        text(
            "SELECT DISTINCT lead_id FROM enrollments"
            " WHERE lead_id = ANY(CAST(:ids AS bigint[])) AND status = 'waiting_for_event'"
        ),
        {"ids": lead_ids},
    )
    return sorted(lead_id for (lead_id,) in found)


def _rows(
    session: Session, pairs: list[tuple[InboundEvent, Match]], now: datetime
) -> list[dict[str, Any]]:
    """Column values per event, with the machine flag and its reason."""
    others = _other_clicks(session, pairs)
    rows: list[dict[str, Any]] = []
    for event, match in pairs:
        kind = event.type.value
        machine, reason = classify(
            kind,
            occurred_at=event.occurred_at,
            user_agent=event.user_agent,
            ip=event.ip,
            provider_flag=event.provider_machine,
            delivered_at=match.sent_at,
            url=event.url,
            other_clicks=[
                click
                for key, click in others.get(match.message_id or 0, [])
                if key != (event.provider, event.provider_event_id)
            ],
        )
        rows.append(
            {
                "lead_id": match.lead_id,
                "message_id": match.message_id,
                "type": kind,
                "source": event.provider,
                "source_event_id": event.provider_event_id[:255],
                "occurred_at": event.occurred_at,
                "received_at": now,
                "url": event.url,
                "user_agent": event.user_agent,
                "ip": event.ip[:64] if event.ip else None,
                "machine": machine,
                "machine_reason": reason[:100] if reason else None,
                "bounce": (event.bounce or "soft") if kind == "bounced" else None,
                "data": event.data,
            }
        )
    return rows


ClickKey = tuple[str, str]
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _other_clicks(
    session: Session, pairs: list[tuple[InboundEvent, Match]]
) -> dict[int, list[tuple[ClickKey, Click]]]:
    """Clicks on the messages clicked in this batch, near those clicks in time: stored ones
    and the batch's own, for the link-scanner burst rule."""
    clicks = [(e, m.message_id) for e, m in pairs if e.type == "clicked" and m.message_id]
    found: dict[int, list[tuple[ClickKey, Click]]] = {}
    if not clicks:
        return found
    for event, clicked in clicks:
        key = (event.provider, event.provider_event_id)
        found.setdefault(clicked, []).append((key, Click(event.occurred_at, event.url)))
    window = DEFAULT_THRESHOLDS.burst_window
    times = [e.occurred_at for e, _ in clicks]
    stored = session.execute(
        select(Event.message_id, Event.source, Event.source_event_id, Event.occurred_at, Event.url)
        .where(
            one_of(session, Event.message_id, sorted(found), BigInteger()),
            Event.type == "clicked",
            Event.occurred_at >= min(times) - window,
            Event.occurred_at <= max(times) + window,
        )
        .limit(10_000)
    )
    for message_id, source, source_event_id, occurred_at, url in stored:
        entries = found[message_id or 0]
        if all(k != (source, source_event_id) for k, _ in entries):
            entries.append(((source, source_event_id), Click(occurred_at, url)))
    return found
