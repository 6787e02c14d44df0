"""What the handoff report reads: the handoffs assigned in a window, with their lead's
source, their stage change's rule and every answer sales gave. Two queries in one short
read-only transaction; no locks, nothing written."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.core.backtest import Window
from nurture.core.handoff_stats import Answer, HandoffRecord, HandoffReport, handoff_report
from nurture.services.uow import Database
from nurture.store.models import Handoff, HandoffAnswer, Lead, StageChange

__all__ = ["handoff_records", "read_report"]


def read_report(database: Database, window: Window, now: datetime) -> HandoffReport:
    """The handoff figures for ``window`` as of ``now``."""
    with database.unit_of_work(readonly=True) as uow:
        records = handoff_records(uow.session, window)
    return handoff_report(records, window, now)


def handoff_records(session: Session, window: Window) -> list[HandoffRecord]:
    """The handoffs assigned at ``window.start <= assigned_at <= window.end``, in id order."""
    in_window = Handoff.assigned_at.between(window.start, window.end)
    answers: dict[int, list[Answer]] = defaultdict(list)
    for handoff_id, outcome, reason, at in session.execute(
        select(
            HandoffAnswer.handoff_id, HandoffAnswer.outcome, HandoffAnswer.reason, HandoffAnswer.at
        )
        .join(Handoff, Handoff.id == HandoffAnswer.handoff_id)
        .where(in_window)
        .order_by(HandoffAnswer.at, HandoffAnswer.id)
    ):
        answers[handoff_id].append(Answer(outcome, at, reason))
    rows = session.execute(
        select(
            Handoff.id,
            Handoff.stage,
            Handoff.status,
            Handoff.assigned_at,
            StageChange.reason,
            Lead.source,
            Handoff.owner,
            Handoff.remind_at,
            Handoff.reassign_at,
            Handoff.reminded_at,
            Handoff.reassignments,
        )
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(StageChange, StageChange.id == Handoff.stage_change_id)
        .where(in_window)
        .order_by(Handoff.id)
    )
    return [
        HandoffRecord(
            id=row.id,
            stage=row.stage,
            status=row.status,
            assigned_at=row.assigned_at,
            rule=_rule(row.reason),
            source=row.source,
            owner=row.owner,
            answers=tuple(answers.get(row.id, ())),
            remind_at=row.remind_at,
            reassign_at=row.reassign_at,
            reminded_at=row.reminded_at,
            reassignments=row.reassignments or 0,
        )
        for row in rows
    ]


def _rule(why: dict[str, Any] | None) -> str | None:
    rule = why.get("rule") if isinstance(why, dict) else None
    return rule if isinstance(rule, str) and rule else None
