"""Sales feedback: ``POST /v1/handoffs/{id}/feedback`` (API key) for CRMs and tools, and the
signed one-click links of a notification (``GET /h/{token}`` confirms, ``POST`` records)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from nurture.core.handoff_model import REJECT_REASONS, Outcome
from nurture.errors import BadToken, Conflict, InvalidInput
from nurture.runtime import Runtime
from nurture.services.feedback import NEXT, record_answer
from nurture.services.handoff_links import read_link
from nurture.store.models import Handoff, Lead
from nurture.web.auth import RuntimeDep, require_api_key
from nurture.web.forms import read_form
from nurture.web.pages import render_page

api = APIRouter(prefix="/v1/handoffs", tags=["handoffs"], dependencies=[Depends(require_api_key)])
links = APIRouter(tags=["handoffs"], include_in_schema=False)

REASON_LABELS = {
    "bad_fit": "Bad fit (disqualify)",
    "not_now": "Not now (recycle)",
    "no_budget": "No budget (recycle)",
    "no_response": "No response (recycle)",
    "wrong_contact": "Wrong contact (recycle)",
}
HEADINGS = {
    Outcome.ACCEPTED: ("Accept this lead?", "Accept"),
    Outcome.REJECTED: ("Reject this lead?", "Reject"),
    Outcome.WON: ("Mark as won?", "Mark won"),
    Outcome.LOST: ("Mark as lost?", "Mark lost"),
}


class FeedbackIn(BaseModel):
    outcome: Outcome
    reason: Literal["bad_fit", "not_now", "no_budget", "no_response", "wrong_contact"] | None = None
    note: str | None = Field(default=None, max_length=2000)
    by: str | None = Field(default=None, max_length=200, description="Who answered")


class FeedbackOut(BaseModel):
    handoff_id: int
    lead_id: int
    outcome: Outcome
    stage: str = Field(description="The lead's stage after the answer")


class HandoffOut(BaseModel):
    id: int
    lead_id: int
    stage: str
    owner: str | None
    team: str | None
    status: str
    outcome_reason: str | None
    assigned_at: datetime
    answered_at: datetime | None
    remind_at: datetime | None
    reassign_at: datetime | None
    reassignments: int


@api.post("/{handoff_id}/feedback", response_model=FeedbackOut)
def feedback(handoff_id: int, body: FeedbackIn, rt: RuntimeDep) -> FeedbackOut:
    """Record sales' answer: `accepted` (an MQL becomes SQL), `rejected` with a `reason`
    (`bad_fit` disqualifies; `not_now`, `no_budget`, `no_response`, `wrong_contact`
    recycle), `won` (customer: no more nurture), `lost`. A second answer is refused with
    409 unless it moves the lead forward (accepted, then won or lost)."""
    with rt.database.unit_of_work() as uow:
        answered = record_answer(
            uow.session, uow.jobs, rt.funnels.current, handoff_id, body.outcome,
            rt.clock.now(), reason=body.reason, note=body.note, by=body.by, via="api",
        )  # fmt: skip
    return FeedbackOut(
        handoff_id=answered.handoff_id,
        lead_id=answered.lead_id,
        outcome=answered.outcome,
        stage=answered.stage,
    )


@api.get("", response_model=list[HandoffOut])
def list_handoffs(
    rt: RuntimeDep,
    status: Annotated[str | None, Query(description="open, accepted, rejected, won, lost")] = None,
    owner: Annotated[str | None, Query(description="A rep's name")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HandoffOut]:
    """Handoffs, newest first: e.g. `?status=open&owner=Priya Shah` for a rep's queue."""
    query = select(Handoff).order_by(Handoff.assigned_at.desc(), Handoff.id.desc()).limit(limit)
    if status:
        query = query.where(Handoff.status == status)
    if owner:
        query = query.where(Handoff.owner == owner)
    with rt.database.unit_of_work(readonly=True) as uow:
        rows = uow.session.scalars(query)
        return [HandoffOut.model_validate(h, from_attributes=True) for h in rows]


@links.get("/h/{token}")
def confirm_page(token: str, rt: RuntimeDep) -> Response:
    """What the link will do, with the button that does it (GET changes nothing)."""
    return _page(rt, token)


@links.post("/h/{token}")
async def answer_by_link(token: str, request: Request, rt: RuntimeDep) -> Response:
    """Record the answer the link stands for (with the reason and note of the form)."""
    form = await read_form(request)
    if form is None:
        return PlainTextResponse("Request body too large.\n", status_code=413)
    reason, note = form.get("reason", "").strip(), form.get("note", "").strip()[:500]
    try:
        handoff_id, outcome = read_link(token, rt.settings.signing_key)
    except BadToken:
        return _invalid(rt)
    with rt.database.unit_of_work(readonly=True) as uow:
        handoff = uow.session.get(Handoff, handoff_id)
        owner = handoff.owner if handoff is not None else None
    try:
        with rt.database.unit_of_work() as uow:
            record_answer(
                uow.session, uow.jobs, rt.funnels.current, handoff_id, outcome, rt.clock.now(),
                reason=reason or None, note=note or None, by=owner, via="link",
            )  # fmt: skip
    except Conflict as exc:
        return _page(rt, token, notice=str(exc), status=409)
    except InvalidInput as exc:
        return _page(rt, token, notice=str(exc), status=422)
    done = {
        Outcome.ACCEPTED: "Accepted. Thank you: the lead is yours.",
        Outcome.REJECTED: "Rejected. Marketing takes the lead back.",
        Outcome.WON: "Marked as won. Congratulations!",
        Outcome.LOST: "Marked as lost. Marketing takes the lead back.",
    }[outcome]
    return _page(rt, token, notice=done)


def _page(rt: Runtime, token: str, *, notice: str | None = None, status: int = 200) -> Response:
    try:
        handoff_id, outcome = read_link(token, rt.settings.signing_key)
    except BadToken:
        return _invalid(rt)
    with rt.database.unit_of_work(readonly=True) as uow:
        handoff = uow.session.get(Handoff, handoff_id)
        lead = uow.session.get(Lead, handoff.lead_id) if handoff is not None else None
    if handoff is None or lead is None:
        return _invalid(rt)
    heading, button = HEADINGS[outcome]
    can_answer = outcome in NEXT.get(handoff.status, ()) and notice is None
    if notice is None and not can_answer:
        notice = f"This lead was already answered: {handoff.status}."
    return render_page(
        "handoff.html",
        status_code=status,
        sender=rt.funnels.current.sender,
        heading=heading,
        button=button,
        token=token,
        outcome=outcome.value,
        can_answer=can_answer,
        notice=notice,
        stage=handoff.stage,
        owner=handoff.owner,
        lead={
            "name": " ".join(p for p in (lead.first_name, lead.last_name) if p),
            "email": lead.email,
            "title": lead.title,
            "company": lead.company,
        },
        reasons=[(r, REASON_LABELS[r]) for r in REJECT_REASONS],
    )


def _invalid(rt: Runtime) -> Response:
    return render_page(
        "message.html",
        status_code=404,
        sender=rt.funnels.current.sender,
        heading="Link not valid",
        text="This link is not one of ours, or it was changed on the way.",
    )
