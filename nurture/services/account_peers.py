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
    accounts = sorted(
        a
        for a in session.scalars(
            select(Lead.account_id)
            .where(one_of(session, Lead.id, ids, BigInteger()), Lead.account_id.is_not(None))
            .distinct()
        )
        if a is not None
    )
    if not accounts:
        return []
    activity = session.execute(
        select(
            Lead.account_id, func.count(func.distinct(Event.lead_id)), func.max(Event.occurred_at)
        )
        .join(Lead, Lead.id == Event.lead_id)
        .where(
            one_of(session, Lead.account_id, accounts, BigInteger()),
            Event.occurred_at > now - signal.window,
            Event.occurred_at <= now,
            Event.machine == false(),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .group_by(Lead.account_id)
    )
    peers: set[int] = set()
    for account_id, engaged, latest in activity:
        if engaged < signal.min_contacts or account_id is None:
            continue
        peers.update(
            session.scalars(
                select(Lead.id).where(
                    Lead.account_id == account_id,
                    Lead.id.not_in(ids),
                    or_(Lead.scored_at.is_(None), Lead.scored_at < latest),
                )
            )
        )
    return sorted(peers)
