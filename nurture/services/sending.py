"""Running due steps: guards, stepping, and recording each email to send.

A chunk of enrollments (one ``run_steps`` job) is run in one transaction with the leads'
rows locked: the facts are loaded once (``step_batch``), each enrollment is stepped by the
pure core, and the emails are recorded together (``outgoing``) as ``queued`` message rows,
unique per enrollment, step and occurrence, and the enrollments' moves written in one
statement (``store.bulk``). The ``deliver_messages`` job is enqueued for
after commit: the provider is never called inside the transaction, and a crash can never
send a step twice (DESIGN invariant 3). If the chunk fails as a whole, each enrollment is
run again on its own, so one that cannot run does not hold up the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence as Ids
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.core.caps import cap_release
from nurture.core.funnel import Funnel
from nurture.core.sequence import Sequence
from nurture.core.stepping import (
    AwaitUntil,
    Finish,
    SendNow,
    Sleep,
    Status,
    advance,
    goal_reached,
)
from nurture.core.windows import next_send_time
from nurture.services.outgoing import PendingSend, Sending, record_sends
from nurture.services.situation import zone_of
from nurture.services.step_batch import Chunk, load_chunk
from nurture.services.uow import Database, Jobs
from nurture.store.bulk import update_rows
from nurture.store.models import Enrollment, Lead

__all__ = ["Sending", "run_enrollments", "run_steps"]

log = logging.getLogger(__name__)

LIVE = (Status.ACTIVE.value, Status.WAITING_FOR_EVENT.value)
MAX_HOPS = 50  # decisions applied in one run; a validated funnel needs far fewer
PROGRESS = (  # the columns a run may change
    "status",
    "current_step",
    "step_entered_at",
    "next_run_at",
    "claimed_until",
    "exit_reason",
    "ended_at",
    "updated_at",
)


def run_steps(
    database: Database, sending: Sending, enrollment_ids: Ids[int], now: datetime
) -> dict[int, str]:
    """Run a chunk in one transaction; if that fails, each enrollment in its own, and raise
    the first error after the others have run (the job is retried; what ran is not due)."""
    try:
        with database.unit_of_work() as uow:
            return run_enrollments(uow.session, uow.jobs, sending, enrollment_ids, now)
    except Exception:
        if len(enrollment_ids) <= 1:
            raise
        log.exception("a chunk of %d enrollments failed; running each alone", len(enrollment_ids))
    outcomes: dict[int, str] = {}
    first_error: Exception | None = None
    for enrollment_id in enrollment_ids:
        try:
            with database.unit_of_work() as uow:
                outcomes.update(
                    run_enrollments(uow.session, uow.jobs, sending, [enrollment_id], now)
                )
        except Exception as exc:
            log.exception("enrollment %s failed", enrollment_id)
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return outcomes


def run_enrollments(
    session: Session, jobs: Jobs, sending: Sending, enrollment_ids: Ids[int], now: datetime
) -> dict[int, str]:
    """Run the due steps of each enrollment; return what happened to each (for logs and
    tests): "missing", "ended", "not due", "sent", "waiting", "deferred", "exited: …"..."""
    funnel = sending.funnel
    chunk = load_chunk(session, enrollment_ids, now, funnel.frequency_cap.period)
    loaded = {enrollment.id: _progress(enrollment) for enrollment in chunk.enrollments}
    for enrollment in chunk.enrollments:  # not flushed one by one: written below, at once
        session.expunge(enrollment)
    outcomes = dict.fromkeys(enrollment_ids, "missing")
    pending: list[PendingSend] = []
    for enrollment in chunk.enrollments:
        lead = chunk.leads[enrollment.lead_id]
        outcomes[enrollment.id] = _run_one(chunk, funnel, lead, enrollment, now, pending)
    queued = record_sends(session, sending, pending, now)
    moved = [row for e in chunk.enrollments if (row := _progress(e)) != loaded[e.id]]
    update_rows(session, Enrollment, moved)
    if queued:
        jobs.enqueue("deliver_messages", queued)
    return outcomes


def _progress(enrollment: Enrollment) -> dict[str, Any]:
    """What a run may change in an enrollment, with its id: a row of the chunk's one UPDATE
    (the ORM's flush, one UPDATE per enrollment, cost 99 us per email; this costs 16)."""
    return {"id": enrollment.id} | {name: getattr(enrollment, name) for name in PROGRESS}


def _run_one(
    chunk: Chunk,
    funnel: Funnel,
    lead: Lead,
    enrollment: Enrollment,
    now: datetime,
    pending: list[PendingSend],
) -> str:
    enrollment.claimed_until = None
    if enrollment.status not in LIVE:
        return "ended"
    if enrollment.next_run_at is None or enrollment.next_run_at > now:
        return "not due"
    sequence = funnel.sequences.get(enrollment.sequence_id)
    reason = _guard(lead, enrollment, sequence)
    if reason:
        _finish(enrollment, Status.EXITED, reason, now)
        return f"exited: {reason}"
    assert sequence is not None
    seen = chunk.situation(funnel, lead, enrollment, now)  # events cannot change here
    if lead.stage not in sequence.stages:  # promoted (a goal) or moved out: stop at once
        goal = goal_reached(sequence, seen)
        status, why = (Status.COMPLETED, goal) if goal else (Status.EXITED, "stage changed")
        _finish(enrollment, status, why if goal else f"{why} to {lead.stage}", now)
        return f"{status.value}: {enrollment.exit_reason}"
    sent_one = False
    for _ in range(MAX_HOPS):
        situation = replace(seen, entered_at=enrollment.step_entered_at)
        decision = advance(sequence, enrollment.current_step, Status(enrollment.status), situation)
        if isinstance(decision, Finish):
            _finish(enrollment, decision.status, decision.reason, now)
            return f"{decision.status.value}: {decision.reason}"
        if isinstance(decision, Sleep):
            _move(enrollment, decision.resume_at, decision.until, now)
            return "waiting"
        if isinstance(decision, AwaitUntil):
            enrollment.status = Status.WAITING_FOR_EVENT.value
            enrollment.current_step = decision.step_id
            enrollment.step_entered_at = decision.entered_at
            enrollment.next_run_at = decision.until
            enrollment.updated_at = now
            return "waiting for event"
        if sent_one:
            return "sent"  # the next email is due now: the next run applies window and cap
        deferred = _defer_until(chunk, funnel, lead, now)
        if deferred is not None:
            enrollment.next_run_at = deferred
            enrollment.updated_at = now
            return "deferred"
        pending.append(_pending(chunk, lead, enrollment, sequence, decision))
        _move(enrollment, decision.then, now, now)
        sent_one = True
    raise RuntimeError(f"enrollment {enrollment.id}: no wait after {MAX_HOPS} steps")


def _guard(lead: Lead, enrollment: Enrollment, sequence: Sequence | None) -> str | None:
    """Why this enrollment must stop now, if it must (checked at send time)."""
    if lead.contact_status != "active":
        return f"contact status {lead.contact_status}"
    if sequence is None:
        return f"sequence {enrollment.sequence_id} no longer in the funnel"
    if enrollment.current_step is not None and not sequence.has_step(enrollment.current_step):
        return f"step {enrollment.current_step} no longer in the sequence"
    return None


def _defer_until(chunk: Chunk, funnel: Funnel, lead: Lead, now: datetime) -> datetime | None:
    """Paused by the lead, outside its send window, or over the frequency cap: when to try
    again (the first window opening after that)."""
    if lead.paused_until is not None and lead.paused_until > now:
        return next_send_time(funnel.send_window, zone_of(lead.time_zone), lead.paused_until)
    opening = next_send_time(funnel.send_window, zone_of(lead.time_zone), now)
    if opening > now:
        return opening
    release = cap_release(funnel.frequency_cap, chunk.recent_sends(lead.id), now)
    if release is None:
        return None
    return next_send_time(funnel.send_window, zone_of(lead.time_zone), release)


def _pending(
    chunk: Chunk, lead: Lead, enrollment: Enrollment, sequence: Sequence, decision: SendNow
) -> PendingSend:
    step = decision.step
    return PendingSend(
        lead=lead,
        account=chunk.account(lead),
        enrollment=enrollment,
        sequence=sequence,
        step_id=step.id,
        send=decision.send,
        occurrence=chunk.occurrence(enrollment.id, step.id),
    )


def _move(enrollment: Enrollment, step_id: str | None, run_at: datetime, now: datetime) -> None:
    enrollment.status = Status.ACTIVE.value
    enrollment.current_step = step_id
    enrollment.step_entered_at = None
    enrollment.next_run_at = run_at
    enrollment.updated_at = now


def _finish(enrollment: Enrollment, status: Status, reason: str, now: datetime) -> None:
    enrollment.status = status.value
    enrollment.exit_reason = reason[:200]
    enrollment.next_run_at = None
    enrollment.ended_at = now
    enrollment.updated_at = now
