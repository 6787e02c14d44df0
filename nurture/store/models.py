"""SQLAlchemy 2 typed models. The schema is the same on SQLite and PostgreSQL; the one
Alembic migration in ``store/migrations`` creates it, and a test checks they match."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.store.base import NAMING, Base, Id
from nurture.store.handoff_models import Handoff, HandoffAnswer, Notification, RepState
from nurture.store.types import JSONDocument, UTCDateTime, json_default

__all__ = [
    "NAMING",
    "Account",
    "Base",
    "Enrollment",
    "Event",
    "Handoff",
    "HandoffAnswer",
    "Id",
    "Lead",
    "Message",
    "Notification",
    "RepState",
    "StageChange",
    "Visitor",
    "WebhookToken",
]

LIVE_ENROLLMENT = "status IN ('active', 'waiting_for_event')"
IN_FLIGHT_MESSAGE = "status = 'sending'"
QUEUED_MESSAGE = "status = 'queued'"


class Account(Base):
    """A company, identified by its domain."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=json_default)
    # The rep who owns the account: its leads go to them (sticky assignment).
    owner: Mapped[str | None] = mapped_column(String(100))
    # Rolled up from its leads' engagement when any of them is rescored (a cache).
    engagement: Mapped[float | None] = mapped_column(Float)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lead(Base):
    """A person, identified by the normalised email."""

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_stage_id", "stage", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=json_default)
    stage: Mapped[str] = mapped_column(String(40))
    contact_status: Mapped[str] = mapped_column(String(20), default="active")
    # No marketing email before this time (the lead asked for a pause); None: not paused.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When contact_status last changed; a provider event that happened before it (a late
    # retry) must not change the status again (DESIGN: provider events are not ordered).
    contact_status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(100))
    # The score cache (DESIGN invariant 2: the score is a function of events, model, time).
    fit_points: Mapped[int | None] = mapped_column(Integer)
    fit_grade: Mapped[str | None] = mapped_column(String(16))
    engagement: Mapped[float | None] = mapped_column(Float)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score_version: Mapped[str | None] = mapped_column(String(64))
    # Hand-raiser events before this do not count again (a recycled lead's old demo request).
    stage_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Latest real engagement (or creation): the sunset finds quiet leads by this.
    last_engaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When decay alone could move the lead (a fall-back rule); the review job rescores it.
    score_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    account: Mapped[Account | None] = relationship(lazy="raise")


class Enrollment(Base):
    """One lead's progress through one sequence. A lead has at most one live enrollment."""

    __tablename__ = "enrollments"
    __table_args__ = (
        # The scheduler's hot query: due live enrollments by next_run_at. Partial, so its
        # cost follows the number of live enrollments, not every enrollment ever made.
        Index(
            "ix_enrollments_due",
            "next_run_at",
            sqlite_where=text(LIVE_ENROLLMENT),
            postgresql_where=text(LIVE_ENROLLMENT),
        ),
        Index(
            "uq_enrollments_live_lead",
            "lead_id",
            unique=True,
            sqlite_where=text(LIVE_ENROLLMENT),
            postgresql_where=text(LIVE_ENROLLMENT),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    sequence_id: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(40))
    current_step: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # active|waiting_for_event|completed|exited
    exit_reason: Mapped[str | None] = mapped_column(String(200))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # wait_for began
    config_version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """A marketing email: one per (enrollment, step, occurrence), enforced by a unique key.
    ``occurrence`` counts visits of a step that a sequence loops back to (after a wait)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step_id", "occurrence"),
        Index("ix_messages_lead_id_created_at", "lead_id", "created_at"),
        # The reconciler's query: messages handed to a provider with no answer recorded.
        Index(
            "ix_messages_in_flight",
            "updated_at",
            sqlite_where=text(IN_FLIGHT_MESSAGE),
            postgresql_where=text(IN_FLIGHT_MESSAGE),
        ),
        # Finding messages whose deliver job the broker lost: queued, untouched for long.
        Index(
            "ix_messages_queued",
            "updated_at",
            sqlite_where=text(QUEUED_MESSAGE),
            postgresql_where=text(QUEUED_MESSAGE),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    sequence_id: Mapped[str] = mapped_column(String(100))
    step_id: Mapped[str] = mapped_column(String(100))
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    config_version: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    # queued -> sending -> sent | failed | unknown; queued -> cancelled (suppressed meanwhile)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    mime: Mapped[bytes | None] = mapped_column(LargeBinary)  # the email; cleared once sent
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Event(Base):
    """Engagement: provider webhooks, tracking, website and product events."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "source_event_id"),
        Index("ix_events_lead_id_occurred_at", "lead_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40))  # provider name, "website", "tracking"
    source_event_id: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    machine: Mapped[bool] = mapped_column(Boolean, default=False)
    machine_reason: Mapped[str | None] = mapped_column(String(100))
    bounce: Mapped[str | None] = mapped_column(String(4))  # "hard" | "soft" for bounced
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=json_default)
    # Website events: the browser's first-party id (or a key derived from an unknown email);
    # anonymous events (lead_id NULL) join a lead by it once the visitor is identified.
    visitor_id: Mapped[str | None] = mapped_column(String(64), index=True)


class Visitor(Base):
    """A website visitor (the ``nurture_vid`` cookie) and, once identified by a form submit
    or an event carrying both ids, the lead it is. Later anonymous events of the visitor are
    stored with that lead at once."""

    __tablename__ = "visitors"

    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookToken(Base):
    """A Mailgun signature token already accepted: a request carrying it again is a replay,
    whichever API process it reaches. Rows older than the replay window are pruned."""

    __tablename__ = "webhook_tokens"

    token: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class StageChange(Base):
    """Every stage change says why (DESIGN invariant 4)."""

    __tablename__ = "stage_changes"
    __table_args__ = (Index("ix_stage_changes_lead_id_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    reason: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=json_default)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    config_version: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
