"""Putting leads into the sequence of their stage."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.store.models import Enrollment, Lead

LIVE_STATUSES = ("active", "waiting_for_event")


def enroll_in_stage_sequence(
    session: Session, funnel: Funnel, leads: Iterable[Lead], now: datetime
) -> list[Enrollment]:
    """Enroll each lead in its stage's sequence, unless it already has a live enrollment.

    The first step is due at once; the sending loop takes it from there. Callers hold the
    lead rows (new in this transaction, or locked), so the partial unique index on live
    enrollments is a backstop, not the mechanism.
    """
    candidates = [lead for lead in leads if funnel.sequence_for_stage(lead.stage)]
    if not candidates:
        return []
    live = set(
        session.scalars(
            select(Enrollment.lead_id).where(
                Enrollment.lead_id.in_([lead.id for lead in candidates]),
                Enrollment.status.in_(LIVE_STATUSES),
            )
        )
    )
    created = []
    for lead in candidates:
        sequence = funnel.sequence_for_stage(lead.stage)
        if lead.id in live or sequence is None:
            continue
        created.append(
            Enrollment(
                lead_id=lead.id,
                sequence_id=sequence.id,
                stage=lead.stage,
                current_step=sequence.first_step.id,
                status="active",
                next_run_at=now,
                config_version=funnel.version,
                started_at=now,
                updated_at=now,
            )
        )
    session.add_all(created)
    return created


def exit_live_enrollments(session: Session, lead_id: int, reason: str, now: datetime) -> int:
    """Stop the lead's live enrollment at once (stage change, unsubscribe); the caller holds
    the lead's row lock. Messages already queued are cancelled at delivery by the guard."""
    count = 0
    for enrollment in session.scalars(
        select(Enrollment).where(
            Enrollment.lead_id == lead_id, Enrollment.status.in_(LIVE_STATUSES)
        )
    ):
        enrollment.status = "exited"
        enrollment.exit_reason = reason[:200]
        enrollment.next_run_at = None
        enrollment.ended_at = now
        enrollment.updated_at = now
        count += 1
    return count


def wake_waiting(session: Session, lead_ids: Iterable[int], now: datetime) -> int:
    """A new event may end a ``wait_for``: make the lead's waiting enrollments due now.
    The step runner decides from the stored events whether it matched (engagement calls
    this after storing events)."""
    count = 0
    for enrollment in session.scalars(
        select(Enrollment).where(
            Enrollment.lead_id.in_(list(lead_ids)), Enrollment.status == "waiting_for_event"
        )
    ):
        enrollment.next_run_at = now
        enrollment.updated_at = now
        count += 1
    return count
