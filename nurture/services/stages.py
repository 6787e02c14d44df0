"""Moving a lead to another stage: the one way it happens, so every change says why.

A change writes a ``stage_changes`` row with the reason (DESIGN invariant 4), exits the
lead's live enrollment and enrolls it in the new stage's sequence, all in the caller's
transaction, then tells the listeners (the handoff subscribes here, so its notification
rows are written in the same transaction as the change). The caller holds the lead's row
lock (DESIGN: per-lead work is serialised).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from nurture.core.funnel import Funnel
from nurture.services.enrollment import enroll_in_stage_sequence, exit_live_enrollments_of
from nurture.services.uow import Jobs
from nurture.store.bulk import update_rows
from nurture.store.models import Lead, StageChange


@dataclass(frozen=True)
class StageChanged:
    """The domain event: a lead moved from one stage to another, and why."""

    change_id: int
    lead_id: int
    from_stage: str | None
    to_stage: str
    reason: Mapping[str, Any]
    event_id: int | None
    at: datetime


StageListener = Callable[[Session, Jobs, Funnel, Sequence[StageChanged]], None]
_listeners: list[StageListener] = []


def on_stage_change(listener: StageListener) -> StageListener:
    """Register ``listener``; it runs inside the transaction of every stage change, once per
    batch of changes (``change_stages``), so it can do a batch's work in a few statements."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def remove_listener(listener: StageListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


@dataclass(frozen=True)
class Move:
    """One stage change to make: ``lead`` (row-locked by the caller) to ``to_stage``."""

    lead: Lead
    to_stage: str
    reason: Mapping[str, Any]
    event_id: int | None = None


def change_stage(
    session: Session,
    jobs: Jobs,
    funnel: Funnel,
    lead: Lead,
    to_stage: str,
    reason: Mapping[str, Any],
    now: datetime,
    *,
    event_id: int | None = None,
) -> StageChanged:
    """Move ``lead`` to ``to_stage``: record why, switch sequences, notify listeners."""
    [changed] = change_stages(session, jobs, funnel, [Move(lead, to_stage, reason, event_id)], now)
    return changed


def change_stages(
    session: Session, jobs: Jobs, funnel: Funnel, moves: Sequence[Move], now: datetime
) -> list[StageChanged]:
    """``change_stage`` for many leads (each at most once) with a constant number of
    statements: one multi-row INSERT of the stage_changes rows, one UPDATE exiting the live
    enrollments per stage reached, one query and one INSERT for the new enrollments; then
    the listeners, each once with every change. Nothing is written if any ``to_stage`` is
    unknown."""
    for move in moves:
        if move.to_stage not in funnel.stages:
            raise ValueError(
                f"unknown stage {move.to_stage!r}; the funnel has {', '.join(funnel.stages)}"
            )
    if not moves:
        return []
    reasons = [dict(move.reason) for move in moves]
    changes = [
        StageChanged(0, move.lead.id, move.lead.stage, move.to_stage, reason, move.event_id, now)
        for move, reason in zip(moves, reasons, strict=True)
    ]
    rows = [
        {
            "lead_id": change.lead_id,
            "from_stage": change.from_stage,
            "to_stage": change.to_stage,
            "reason": reason,
            "event_id": change.event_id,
            "config_version": funnel.version,
            "at": now,
        }
        for change, reason in zip(changes, reasons, strict=True)
    ]
    ids = session.scalars(
        insert(StageChange).returning(StageChange.id, sort_by_parameter_order=True), rows
    )
    changes = [replace(change, change_id=id) for change, id in zip(changes, ids, strict=True)]
    reached: dict[str, list[int]] = {}
    for move in moves:
        reached.setdefault(move.to_stage, []).append(move.lead.id)
    for to_stage, lead_ids in reached.items():
        exit_live_enrollments_of(session, lead_ids, f"stage changed to {to_stage}", now)
    moved = [
        {"id": move.lead.id, "stage": move.to_stage, "stage_entered_at": now, "updated_at": now}
        for move in moves
    ]
    update_rows(session, Lead, moved)  # one statement, not one UPDATE per lead at a flush
    for move, row in zip(moves, moved, strict=True):
        for name in ("stage", "stage_entered_at", "updated_at"):
            set_committed_value(move.lead, name, row[name])
    enroll_in_stage_sequence(session, funnel, [move.lead for move in moves], now)
    for listener in list(_listeners):
        listener(session, jobs, funnel, changes)
    return changes
