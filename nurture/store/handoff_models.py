"""Tables of the handoff to sales: handoffs and their answers, the reps' live state, the
notifications outbox (migration 0007). Imported by ``models`` so one metadata holds all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.store.base import Base, Id
from nurture.store.types import JSONDocument, UTCDateTime, json_default


class Handoff(Base):
    """A lead handed to sales at ``stage``: who owns it, why them, and sales' answer."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_owner_assigned_at", "owner", "assigned_at"),
        Index("ix_handoffs_status_remind_at", "status", "remind_at"),
        Index("ix_handoffs_status_reassign_at", "status", "reassign_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    stage_change_id: Mapped[int | None] = mapped_column(ForeignKey("stage_changes.id"))
    stage: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(100))  # rep name; None: nobody available
    team: Mapped[str | None] = mapped_column(String(100))
    assignment: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=json_default)
    status: Mapped[str] = mapped_column(String(20))  # open|accepted|rejected|won|lost
    outcome_reason: Mapped[str | None] = mapped_column(String(40))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # SLA, working hours
    reassign_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reassignments: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandoffAnswer(Base):
    """Each answer sales gave (accepted, then won...): who, when, through what."""

    __tablename__ = "handoff_answers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(20))  # api | link
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepState(Base):
    """What changes about a rep at run time; its rows are locked per team while assigning."""

    __tablename__ = "rep_states"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_weight: Mapped[int] = mapped_column(Integer, default=0)  # smooth weighted RR
    day: Mapped[str | None] = mapped_column(String(10))  # the rep's local date of the count
    assigned_today: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """The outbox: one message to one channel, sent after commit, retried from the database
    (``next_attempt_at``) until sent or dead."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    kind: Mapped[str] = mapped_column(String(20))  # handoff | reminder | reassigned
    channel: Mapped[str] = mapped_column(String(20))  # slack | teams | email | webhook
    recipient: Mapped[str | None] = mapped_column(String(320))  # owner's email, etc.
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=json_default)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # pending | sending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
