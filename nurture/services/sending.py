"""Running an enrollment's due steps: guards, stepping, and recording each email to send.

Everything here happens in the caller's transaction, with the lead's row locked. A send is
recorded as a ``queued`` message row (unique per enrollment, step and occurrence) and the
``deliver_message`` job is enqueued for after commit: the provider is never called inside
the transaction, and a crash can never send a step twice (DESIGN invariant 3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.core.caps import cap_release
from nurture.core.funnel import Funnel
from nurture.core.sequence import Sequence, Step
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
from nurture.errors import TemplateError
from nurture.mail.context import Links, RenderContext
from nurture.mail.message import build_message, unsubscribe_links
from nurture.mail.render import Renderer
from nurture.services.situation import profile_of, recent_sends, situation_of, zone_of
from nurture.services.uow import Jobs
from nurture.store.models import Account, Enrollment, Lead, Message

log = logging.getLogger(__name__)

LIVE = (Status.ACTIVE.value, Status.WAITING_FOR_EVENT.value)
MAX_HOPS = 50  # decisions applied in one run; a validated funnel needs far fewer


@dataclass(frozen=True)
class Sending:
    """What running steps needs besides the session: the live funnel and its renderer."""

    funnel: Funnel
    renderer: Renderer
    base_url: str
    signing_key: bytes


def run_enrollment(
    session: Session, jobs: Jobs, sending: Sending, enrollment_id: int, now: datetime
) -> str:
    """Run the enrollment's due steps; return what happened, for logs and tests."""
    found = session.get(Enrollment, enrollment_id)
    if found is None:
        return "missing"
    lead = session.get(Lead, found.lead_id, with_for_update=True)
    enrollment = session.get(
        Enrollment, enrollment_id, with_for_update=True, populate_existing=True
    )
    assert lead is not None and enrollment is not None  # foreign key
    enrollment.claimed_until = None
    if enrollment.status not in LIVE:
        return "ended"
    if enrollment.next_run_at is None or enrollment.next_run_at > now:
        return "not due"
    funnel = sending.funnel
    sequence = funnel.sequences.get(enrollment.sequence_id)
    reason = _guard(lead, enrollment, sequence)
    if reason:
        _finish(enrollment, Status.EXITED, reason, now)
        return f"exited: {reason}"
    assert sequence is not None
    seen = situation_of(session, funnel, lead, enrollment, now)  # events cannot change here
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
        deferred = _defer_until(session, funnel, lead, now)
        if deferred is not None:
            enrollment.next_run_at = deferred
            enrollment.updated_at = now
            return "deferred"
        _record_send(session, jobs, sending, lead, enrollment, sequence, decision, now)
        _move(enrollment, decision.then, now, now)
        sent_one = True
    raise RuntimeError(f"enrollment {enrollment_id}: no wait after {MAX_HOPS} steps")


def _guard(lead: Lead, enrollment: Enrollment, sequence: Sequence | None) -> str | None:
    """Why this enrollment must stop now, if it must (checked at send time)."""
    if lead.contact_status != "active":
        return f"contact status {lead.contact_status}"
    if sequence is None:
        return f"sequence {enrollment.sequence_id} no longer in the funnel"
    if enrollment.current_step is not None and not sequence.has_step(enrollment.current_step):
        return f"step {enrollment.current_step} no longer in the sequence"
    return None


def _defer_until(session: Session, funnel: Funnel, lead: Lead, now: datetime) -> datetime | None:
    """Outside the lead's send window, or over the frequency cap: when to try again."""
    opening = next_send_time(funnel.send_window, zone_of(lead.time_zone), now)
    if opening > now:
        return opening
    cap = funnel.frequency_cap
    release = cap_release(cap, recent_sends(session, lead.id, now, cap.period), now)
    if release is None:
        return None
    return next_send_time(funnel.send_window, zone_of(lead.time_zone), release)


def _record_send(
    session: Session,
    jobs: Jobs,
    sending: Sending,
    lead: Lead,
    enrollment: Enrollment,
    sequence: Sequence,
    decision: SendNow,
    now: datetime,
) -> None:
    step: Step = decision.step
    occurrence = 1 + (
        session.scalar(
            select(func.count()).where(
                Message.enrollment_id == enrollment.id, Message.step_id == step.id
            )
        )
        or 0
    )
    message = Message(
        enrollment_id=enrollment.id,
        lead_id=lead.id,
        sequence_id=sequence.id,
        step_id=step.id,
        occurrence=occurrence,
        config_version=sending.funnel.version,
        to_address=lead.email,
        subject=decision.send.subject[:500],
        status="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()  # the row id goes into Message-ID and the unsubscribe token
    sender = sending.funnel.sender
    https_url, mailto = unsubscribe_links(
        sending.base_url, lead.id, message.id, sending.signing_key, sender
    )
    preferences = https_url.replace("/u/", "/p/", 1)
    account = session.get(Account, lead.account_id) if lead.account_id else None
    context = RenderContext.for_step(
        profile_of(lead),
        sequence,
        step.id,
        Links(unsubscribe_url=https_url, preferences_url=preferences),
        account_name=account.name if account else None,
        account_domain=account.domain if account else None,
    )
    try:
        rendered = sending.renderer.render(decision.send, context)
    except TemplateError as exc:  # data-dependent (a lead lacking an attribute): record it
        log.warning(
            "step %s/%s failed to render for lead %s: %s", sequence.id, step.id, lead.id, exc
        )
        message.status = "failed"
        message.error = f"render: {exc}"
        return
    message.subject = rendered.subject[:500]
    mime = build_message(rendered, sender, lead.email, message.id, https_url, mailto, now)
    message.mime = mime.as_bytes()
    jobs.enqueue("deliver_message", message.id)


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
