"""/v1/reps: the sales team as handoffs see it today, and marking a rep away or back (an HR
tool or a Slack command can call this; reps themselves are listed in nurture.yaml)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nurture.errors import InvalidInput
from nurture.services.assignment import RepStatus, find_rep, rep_statuses, set_away
from nurture.web.auth import RuntimeDep, require_api_key

router = APIRouter(prefix="/v1/reps", tags=["reps"], dependencies=[Depends(require_api_key)])


class RepOut(BaseModel):
    name: str
    team: str
    email: str
    weight: int
    time_zone: str
    hours: str = Field(
        description="Working days and hours, e.g. 'mon-fri 09:00-17:30 Europe/Berlin'"
    )
    daily_cap: int | None
    away_until: datetime | None = Field(description="No handoffs before this instant (UTC)")
    assigned_today: int = Field(description="Handoffs on the rep's own date today")
    at_work: bool = Field(description="Within working hours now")
    available: bool = Field(description="Not away")

    @classmethod
    def of(cls, status: RepStatus, now: datetime) -> RepOut:
        return cls.model_validate(status.as_dict(now))


class AvailabilityIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"away_until": "2026-12-01T08:00:00+01:00"}]},
    )

    away_until: AwareDatetime | None = Field(
        description="Away until this instant (with its offset); null: back now"
    )


@router.get("", response_model=list[RepOut])
def list_reps(rt: RuntimeDep) -> list[RepOut]:
    """Every rep in nurture.yaml's order: team, weight, hours, away until, handoffs today."""
    now = rt.clock.now()
    with rt.database.unit_of_work(readonly=True) as uow:
        statuses = rep_statuses(uow.session, rt.funnels.current.handoff, now)
    return [RepOut.of(status, now) for status in statuses]


@router.put("/{name}/availability", response_model=RepOut)
def set_availability(name: str, body: AvailabilityIn, rt: RuntimeDep) -> RepOut:
    """Mark a rep away until an instant (no handoffs to them meanwhile, their accounts'
    leads go to teammates) or back (`null`). 404 names the known reps."""
    handoff = rt.funnels.current.handoff
    rep = find_rep(handoff, name)
    now = rt.clock.now()
    if body.away_until is not None and body.away_until <= now:
        raise InvalidInput("away_until has passed: give a later instant, or null for back now")
    with rt.database.unit_of_work() as uow:
        set_away(uow.session, rep.name, body.away_until, now)
        [status] = [s for s in rep_statuses(uow.session, handoff, now) if s.rep == rep]
    return RepOut.of(status, now)
