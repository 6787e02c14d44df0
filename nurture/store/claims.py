"""Claiming due enrollments with a lease, so several schedulers never hand out one twice.

PostgreSQL: ``FOR UPDATE SKIP LOCKED`` in the sub-select lets concurrent schedulers take
disjoint batches without waiting on each other. SQLite: write transactions begin
IMMEDIATE, so the conditional UPDATE runs alone. Either way a claim is a lease: if the
worker dies, the enrollment is due again once ``claimed_until`` passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from nurture.store.models import Enrollment

LIVE_STATUSES = ("active", "waiting_for_event")


def claim_due(session: Session, now: datetime, *, lease: timedelta, limit: int) -> list[int]:
    """Mark up to ``limit`` due, unclaimed (or lease-expired) enrollments as claimed until
    ``now + lease`` and return their ids, oldest due first."""
    due = (
        select(Enrollment.id)
        .where(
            Enrollment.status.in_(LIVE_STATUSES),
            Enrollment.next_run_at <= now,
            or_(Enrollment.claimed_until.is_(None), Enrollment.claimed_until < now),
        )
        .order_by(Enrollment.next_run_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.scalars(
        update(Enrollment)
        .where(Enrollment.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease)
        .returning(Enrollment.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)
