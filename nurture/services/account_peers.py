"""Colleagues to rescore: when several people of one company engage within the account
window, the account signal adds points to each of them (issue: account signals), including
those who did nothing new. Their cached scores are refreshed by rescoring them too.

Only peers scored before the account's latest engagement are returned, so a peer's own
rescore (which brings no new engagement) does not send its colleagues round again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, false, func, or_, select
from sqlalchemy.orm import Session

from nurture.core.scoring_model import ScoringModel
from nurture.services.engagement_match import one_of
from nurture.services.scoring_inputs import DELIVERY_TYPES
from nurture.store.models import Event, Lead


def stale_account_peers(
    session: Session, model: ScoringModel, lead_ids: Sequence[int], now: datetime
) -> list[int]:
    """Leads sharing an account with ``lead_ids`` (not among them) whose account signal
    holds now and whose score predates the account's latest engagement."""
    signal = model.account
    if signal is None or not lead_ids:
        return []
    ids = sorted(set(lead_ids))
    accounts = (
        select(Lead.account_id)
        .where(one_of(session, Lead.id, ids, BigInteger()), Lead.account_id.is_not(None))
        .distinct()
        .scalar_subquery()
    )
    engaged = (  # accounts whose signal holds now, with their latest engagement
        select(Lead.account_id.label("account_id"), func.max(Event.occurred_at).label("latest"))
        .join(Lead, Lead.id == Event.lead_id)
        .where(
            Lead.account_id.in_(accounts),
            Event.occurred_at > now - signal.window,
            Event.occurred_at <= now,
            Event.machine == false(),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .group_by(Lead.account_id)
        .having(func.count(func.distinct(Event.lead_id)) >= signal.min_contacts)
        .subquery()
    )
    peers = session.scalars(
        select(Lead.id)
        .join(engaged, engaged.c.account_id == Lead.account_id)
        .where(
            ~one_of(session, Lead.id, ids, BigInteger()),
            or_(Lead.scored_at.is_(None), Lead.scored_at < engaged.c.latest),
        )
    )
    return sorted(set(peers))
