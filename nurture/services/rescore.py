"""Which leads a model change leaves to rescore, found in id-ordered pages so a long run
can stop and start again where it was (``nurture rescore``)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from nurture.services.uow import Database
from nurture.store.models import Lead


def _stale(version: str | None) -> ColumnElement[bool]:
    """Scored by another model (or never); every lead when ``version`` is None."""
    if version is None:
        return true()
    return or_(Lead.score_version.is_(None), Lead.score_version != version)


def count_to_rescore(session: Session, version: str | None) -> int:
    return session.scalar(select(func.count()).select_from(Lead).where(_stale(version))) or 0


def lead_batches(database: Database, version: str | None, size: int) -> Iterator[list[int]]:
    """Pages of lead ids to rescore, each read in its own short transaction."""
    after = 0
    while True:
        with database.unit_of_work(readonly=True) as uow:
            ids = list(
                uow.session.scalars(
                    select(Lead.id)
                    .where(Lead.id > after, _stale(version))
                    .order_by(Lead.id)
                    .limit(size)
                )
            )
        if not ids:
            return
        yield ids
        after = ids[-1]
