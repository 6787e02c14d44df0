"""Putting leads into the sequence of their stage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Result, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.core.sequence import Sequence as FunnelSequence
from nurture.services.engagement_match import one_of
from nurture.services.statements import dialect_of, ids_in
from nurture.store.models import Enrollment, Lead

LIVE_STATUSES = ("active", "waiting_for_event")


def enroll_in_stage_sequence(
    session: Session, funnel: Funnel, leads: Iterable[Lead], now: datetime
) -> int:
    """Enroll each lead in its stage's sequence, unless it already has a live enrollment;
    how many were enrolled. One bulk INSERT (no ORM unit of work per enrollment).

    The first step is due at once; the sending loop takes it from there. Callers hold the
    lead rows (new in this transaction, or locked), so the partial unique index on live
    enrollments is a backstop, not the mechanism.
    """
    candidates = [lead for lead in leads if funnel.sequence_for_stage(lead.stage)]
    if not candidates:
        return 0
    live = set(
        session.scalars(
            select(Enrollment.lead_id).where(
                one_of(session, Enrollment.lead_id, [lead.id for lead in candidates], BigInteger()),
                Enrollment.status.in_(LIVE_STATUSES),
            )
        )
    )
    rows = []
    for lead in candidates:
        sequence = funnel.sequence_for_stage(lead.stage)
        if lead.id in live or sequence is None:
            continue
        rows.append(enrollment_row(lead, sequence, funnel.version, now))
    if rows:
        session.execute(insert(Enrollment), rows)
    return len(rows)


def new_enrollment(lead: Lead, sequence: FunnelSequence, version: str, now: datetime) -> Enrollment:
    """``lead`` at the first step of ``sequence``, due at once (not yet added)."""
    return Enrollment(**enrollment_row(lead, sequence, version, now))


def enrollment_row(
    lead: Lead, sequence: FunnelSequence, version: str, now: datetime
) -> dict[str, Any]:
    """The columns of ``new_enrollment``, as a row for a bulk INSERT."""
    return {
        "lead_id": lead.id,
        "sequence_id": sequence.id,
        "stage": lead.stage,
        "current_step": sequence.first_step.id,
        "status": "active",
        "next_run_at": now,
        "config_version": version,
        "started_at": now,
        "updated_at": now,
    }


def exit_live_enrollments(session: Session, lead_id: int, reason: str, now: datetime) -> int:
    """Stop the lead's live enrollment at once (stage change, unsubscribe); the caller holds
    the lead's row lock. Messages already queued are cancelled at delivery by the guard."""
    return exit_live_enrollments_of(session, [lead_id], reason, now)


def exit_live_enrollments_of(
    session: Session, lead_ids: Sequence[int], reason: str, now: datetime
) -> int:
    """``exit_live_enrollments`` for many leads in one UPDATE; the caller holds their row
    locks. Enrollments already loaded in the session see the change (matched rows are
    fetched by primary key, not by testing every object in the session)."""
    if not lead_ids:
        return 0
    result = session.execute(
        update(Enrollment)
        .where(
            one_of(session, Enrollment.lead_id, sorted(set(lead_ids)), BigInteger()),
            Enrollment.status.in_(LIVE_STATUSES),
        )
        .values(
            status="exited",
            exit_reason=reason[:200],
            next_run_at=None,
            ended_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    return _rowcount(result)


def wake_waiting(session: Session, lead_ids: Iterable[int], now: datetime) -> int:
    """A new event may end a ``wait_for``: make the lead's waiting enrollments due now.
    The step runner decides from the stored events whether it matched (engagement calls
    this after storing events). One UPDATE for all the leads."""
    ids = sorted(set(lead_ids))
    if not ids:
        return 0
    result = session.execute(_wake_statement(dialect_of(session)), {"ids": ids, "now": now})
    return _rowcount(result)


@cache
def _wake_statement(dialect: str) -> Update:
    return (
        update(Enrollment)
        .where(ids_in(dialect, Enrollment.lead_id, "ids"), Enrollment.status == "waiting_for_event")
        .values(next_run_at=bindparam("now"), updated_at=bindparam("now"))
        .execution_options(synchronize_session="fetch")
    )


def _rowcount(result: Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
