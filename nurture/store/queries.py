"""Named read queries for leads, kept out of services and routes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import NotFound
from nurture.store.models import Account, Enrollment, Event, Lead, StageChange


def get_lead(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}")
    return lead


def get_lead_by_email(session: Session, email: str) -> Lead:
    lead = session.scalars(select(Lead).where(Lead.email == email)).one_or_none()
    if lead is None:
        raise NotFound(f"no lead with email {email!r}")
    return lead


def get_account(session: Session, account_id: int | None) -> Account | None:
    return session.get(Account, account_id) if account_id is not None else None


def page_leads(
    session: Session,
    *,
    stage: str | None = None,
    contact_status: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Sequence[Lead]:
    """Keyset pagination by id (stable under inserts, no OFFSET scans)."""
    query = select(Lead).order_by(Lead.id).limit(limit)
    if stage is not None:
        query = query.where(Lead.stage == stage)
    if contact_status is not None:
        query = query.where(Lead.contact_status == contact_status)
    if after is not None:
        query = query.where(Lead.id > after)
    return session.scalars(query).all()


def lead_enrollments(session: Session, lead_id: int) -> Sequence[Enrollment]:
    query = (
        select(Enrollment)
        .where(Enrollment.lead_id == lead_id)
        .order_by(Enrollment.started_at.desc(), Enrollment.id.desc())
    )
    return session.scalars(query).all()


def recent_events(session: Session, lead_id: int, limit: int = 20) -> Sequence[Event]:
    query = (
        select(Event)
        .where(Event.lead_id == lead_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def stage_history(session: Session, lead_id: int, limit: int = 20) -> Sequence[StageChange]:
    query = (
        select(StageChange)
        .where(StageChange.lead_id == lead_id)
        .order_by(StageChange.at.desc(), StageChange.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()
