"""Colleagues to rescore: when several people of one company engage within the account
window, the account signal adds points to each of them (issue: account signals), including
those who did nothing new. Their cached scores are refreshed by rescoring them too.

Only peers scored before the account's latest engagement are returned, so a peer's own
rescore (which brings no new engagement) does not send its colleagues round again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, false, func, or_, select
from sqlalchemy.orm import Session

from nurture.core.scoring_model import ScoringModel
from nurture.services.scoring_inputs import DELIVERY_TYPES
from nurture.services.statements import dialect_of, ids_in, planned_for_values
from nurture.store.models import Event, Lead


def stale_account_peers(
    session: Session, model: ScoringModel, lead_ids: Sequence[int], now: datetime
) -> list[int]:
    """Leads sharing an account with ``lead_ids`` (not among them) whose account signal
    holds now and whose score predates the account's latest engagement."""
    return _stale(session, model, lead_ids, now, colleagues=True)


def still_stale(
    session: Session, model: ScoringModel, lead_ids: Sequence[int], now: datetime
) -> list[int]:
    """The leads among ``lead_ids`` (peers sent to be rescored) whose score still predates
    their account's latest engagement: in a backlog, most were rescored by their own job
    between being sent and this check."""
    return _stale(session, model, lead_ids, now, colleagues=False)


def _stale(
    session: Session,
    model: ScoringModel,
    lead_ids: Sequence[int],
    now: datetime,
    *,
    colleagues: bool,
) -> list[int]:
    """Stale leads of the accounts of ``lead_ids``: their colleagues, or they themselves."""
    signal = model.account
    if signal is None or not lead_ids:
        return []
    params = {
        "ids": sorted(set(lead_ids)),
        "start": now - signal.window,
        "now": now,
        "contacts": signal.min_contacts,
    }
    with planned_for_values(session):
        found = list(session.scalars(_stale_query(dialect_of(session), colleagues), params))
    return sorted(set(found))


@cache
def _stale_query(dialect: str, colleagues: bool) -> Select[int]:
    given = ids_in(dialect, Lead.id, "ids")
    accounts = (
        select(Lead.account_id)
        .where(given, Lead.account_id.is_not(None))
        .distinct()
        .scalar_subquery()
    )
    engaged = (  # accounts whose signal holds now, with their latest engagement
        select(Lead.account_id.label("account_id"), func.max(Event.occurred_at).label("latest"))
        .join(Lead, Lead.id == Event.lead_id)
        .where(
            Lead.account_id.in_(accounts),
            Event.occurred_at > bindparam("start"),
            Event.occurred_at <= bindparam("now"),
            Event.machine == false(),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .group_by(Lead.account_id)
        .having(func.count(func.distinct(Event.lead_id)) >= bindparam("contacts"))
        .subquery()
    )
    return (
        select(Lead.id)
        .join(engaged, engaged.c.account_id == Lead.account_id)
        .where(
            ~given if colleagues else given,
            or_(Lead.scored_at.is_(None), Lead.scored_at < engaged.c.latest),
        )
    )
