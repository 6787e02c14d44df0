"""/v1/leads: create or update leads (one or a batch), read one, list by stage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response, status

from nurture.services.explain import explain_lead
from nurture.services.lead_input import LeadIn
from nurture.services.leads import Outcome, upsert_leads
from nurture.store import queries
from nurture.web.auth import RuntimeDep, require_api_key
from nurture.web.schemas import (
    AccountOut,
    EnrollmentOut,
    EventOut,
    LeadDetail,
    LeadOut,
    LeadPage,
    StageChangeOut,
    UpsertedLead,
    UpsertOut,
)

MAX_BATCH = 1000

router = APIRouter(prefix="/v1/leads", tags=["leads"], dependencies=[Depends(require_api_key)])

LeadBody = Annotated[
    LeadIn | Annotated[list[LeadIn], Body(min_length=1, max_length=MAX_BATCH)],
    Body(
        openapi_examples={
            "one": {"value": {"email": "jordan@northwind.example", "first_name": "Jordan"}},
            "batch": {"value": [{"email": "a@acme.example"}, {"email": "b@acme.example"}]},
        }
    ),
]


@router.post("", response_model=UpsertOut, status_code=status.HTTP_200_OK)
def upsert(body: LeadBody, rt: RuntimeDep, response: Response) -> UpsertOut:
    """Create or update one lead (a JSON object) or up to 1,000 (a JSON array), by email.

    The whole request is validated first: one bad item refuses the request and stores
    nothing. New leads land in `stage` (default: the funnel's initial stage) and are
    enrolled in its sequence; for existing leads, given fields are updated and `stage` is
    ignored (stage changes come from the ladder, with a reason). Answers 201 if any lead
    was created, else 200.
    """
    items = body if isinstance(body, list) else [body]
    with rt.database.unit_of_work() as uow:
        result = upsert_leads(
            uow.session,
            rt.funnels.current,
            items,
            now=rt.clock.now(),
            default_time_zone=rt.settings.default_time_zone,
            jobs=uow.jobs,
        )
        out = UpsertOut(
            created=result.count(Outcome.CREATED),
            updated=result.count(Outcome.UPDATED),
            unchanged=result.count(Outcome.UNCHANGED),
            leads=[
                UpsertedLead(id=lead.id, email=lead.email, outcome=outcome.value)
                for lead, outcome in result.leads
            ],
        )
    if out.created:
        response.status_code = status.HTTP_201_CREATED
    return out


@router.get("", response_model=LeadPage)
def list_leads(
    rt: RuntimeDep,
    stage: str | None = None,
    contact_status: Annotated[str | None, Query(alias="status")] = None,
    after: Annotated[int | None, Query(description="Last id of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> LeadPage:
    """Leads in id order, filtered by stage and contact status, a page at a time."""
    with rt.database.unit_of_work(readonly=True) as uow:
        rows = queries.page_leads(
            uow.session, stage=stage, contact_status=contact_status, after=after, limit=limit
        )
        items = [LeadOut.model_validate(lead) for lead in rows]
    next_after = items[-1].id if len(items) == limit else None
    return LeadPage(items=items, next_after=next_after)


@router.get("/{lead_id}/score")
def lead_score(lead_id: int, rt: RuntimeDep) -> dict[str, Any]:
    """Why the lead is where it is: fit and engagement now, each rule's points before and
    after decay, the ladder rule that holds, what is missing for the next stage (for
    example "12 more engagement points"), and the stage history with reasons."""
    with rt.database.unit_of_work(readonly=True) as uow:
        found = explain_lead(uow.session, rt.funnels.current, lead_id, rt.clock.now())
    return found.as_dict()


@router.get("/{lead_id}", response_model=LeadDetail)
def get_lead(lead_id: int, rt: RuntimeDep) -> LeadDetail:
    """One lead with its account, enrollments, recent events and stage changes."""
    with rt.database.unit_of_work(readonly=True) as uow:
        lead = queries.get_lead(uow.session, lead_id)
        account = queries.get_account(uow.session, lead.account_id)
        return LeadDetail(
            **LeadOut.model_validate(lead).model_dump(),
            account=AccountOut.model_validate(account) if account else None,
            enrollments=[
                EnrollmentOut.model_validate(e)
                for e in queries.lead_enrollments(uow.session, lead_id)
            ],
            recent_events=[
                EventOut.model_validate(e) for e in queries.recent_events(uow.session, lead_id)
            ],
            stage_changes=[
                StageChangeOut.model_validate(c)
                for c in queries.stage_history(uow.session, lead_id)
            ],
        )
