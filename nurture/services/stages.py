"""Moving a lead to another stage: the one way it happens, so every change says why.

A change writes a ``stage_changes`` row with the reason (DESIGN invariant 4), exits the
lead's live enrollment and enrolls it in the new stage's sequence, all in the caller's
transaction, then tells the listeners (the handoff subscribes here, so its notification
rows are written in the same transaction as the change). The caller holds the lead's row
lock (DESIGN: per-lead work is serialised).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.services.enrollment import enroll_in_stage_sequence, exit_live_enrollments
from nurture.services.uow import Jobs
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


StageListener = Callable[[Session, Jobs, Funnel, StageChanged], None]
_listeners: list[StageListener] = []


def on_stage_change(listener: StageListener) -> StageListener:
    """Register ``listener``; it runs inside the transaction of every stage change."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def remove_listener(listener: StageListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


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
    if to_stage not in funnel.stages:
        raise ValueError(f"unknown stage {to_stage!r}; the funnel has {', '.join(funnel.stages)}")
    row = StageChange(
        lead_id=lead.id,
        from_stage=lead.stage,
        to_stage=to_stage,
        reason=dict(reason),
        event_id=event_id,
        config_version=funnel.version,
        at=now,
    )
    session.add(row)
    exit_live_enrollments(session, lead.id, f"stage changed to {to_stage}", now)
    from_stage = lead.stage
    lead.stage = to_stage
    lead.stage_entered_at = now
    lead.updated_at = now
    session.flush()  # the old enrollment is exited before the partial unique index sees a new one
    enroll_in_stage_sequence(session, funnel, [lead], now)
    changed = StageChanged(row.id, lead.id, from_stage, to_stage, row.reason, event_id, now)
    for listener in list(_listeners):
        listener(session, jobs, funnel, changed)
    return changed
