"""Response bodies. Request bodies reuse ``nurture.services.lead_input.LeadIn``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AccountOut(Out):
    id: int
    domain: str
    name: str | None


class LeadOut(Out):
    id: int
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    company: str | None
    country: str | None
    time_zone: str
    stage: str
    contact_status: str
    contact_status_changed_at: datetime | None
    paused_until: datetime | None  # no marketing email before this (the lead paused)
    source: str | None
    account_id: int | None
    attributes: dict[str, Any]
    # The cached score (GET /v1/leads/{id}/score computes it live, with its reasons).
    fit_grade: str | None
    fit_points: int | None
    engagement: float | None
    scored_at: datetime | None
    stage_entered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EnrollmentOut(Out):
    id: int
    sequence_id: str
    stage: str
    current_step: str | None
    status: str
    exit_reason: str | None
    next_run_at: datetime | None
    config_version: str
    started_at: datetime
    ended_at: datetime | None


class EventOut(Out):
    id: int
    type: str  # canonical: delivered, deferred, bounced, dropped, opened, clicked, ...
    source: str  # provider name, "tracking", "website"
    occurred_at: datetime
    message_id: int | None
    url: str | None
    bounce: str | None  # hard | soft, for bounced
    machine: bool  # a bot or scanner, not the person: stored, never counted as engagement
    machine_reason: str | None


class StageChangeOut(Out):
    id: int
    from_stage: str | None
    to_stage: str
    reason: dict[str, Any]
    at: datetime


class LeadDetail(LeadOut):
    account: AccountOut | None
    enrollments: list[EnrollmentOut]
    recent_events: list[EventOut]
    stage_changes: list[StageChangeOut]


class LeadPage(BaseModel):
    items: list[LeadOut]
    next_after: int | None  # pass as ?after= for the next page; null on the last page


class UpsertedLead(BaseModel):
    id: int
    email: str
    outcome: str  # created | updated | unchanged


class UpsertOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    leads: list[UpsertedLead]


class FunnelOut(BaseModel):
    version: str
    stages: list[str]
    initial_stage: str
    sequences: dict[str, list[str]]  # sequence id -> stages it serves


class ReloadOut(BaseModel):
    version: str
    changed: bool


class WebhookOut(BaseModel):
    stored: int  # events newly stored
    duplicates: int  # already stored (a provider retry), stored once
    unmatched: int  # no message and no lead matched: acknowledged, not stored
    ignored: int  # provider event types with no canonical type (e.g. SendGrid processed)


class SiteEventsOut(BaseModel):
    """What ``POST /v1/events`` and ``/v1/collect`` did: newly stored events, repeats of a
    stored ``event_id`` (or twice in the batch), and how many new ones have no lead yet."""

    stored: int
    duplicates: int
    anonymous: int
