"""What a backtest reads: every lead created before the window's end, with its events up to
then, in id-ordered batches, each batch in its own short read-only transaction (no locks:
a backtest changes nothing and must not hold up the engine).

Per batch, five queries whatever its size: the leads, their accounts, their events (joined
to their messages for the step id, ``data`` only for the types some rule filters on, as in
``scoring_inputs``), their stage changes (the stage each was created in, and when sales
marked it won) and, when a model has an account signal, the engagement of the other leads
of their accounts. The caller replays one batch, drops it, and reads the next.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import BigInteger, false, func, select
from sqlalchemy.orm import Session

from nurture.core.backtest import LeadHistory
from nurture.core.scoring_model import AccountActivity, ScoringModel
from nurture.services.engagement_match import one_of
from nurture.services.scoring_inputs import DELIVERY_TYPES, read_events, types_filtered_by_data
from nurture.services.situation import profile_of
from nurture.services.uow import Database
from nurture.store.models import Account, Event, Handoff, HandoffAnswer, Lead, StageChange

#: Leads per batch (and per transaction).
BATCH = 500


def count_leads(session: Session, end: datetime) -> int:
    """How many leads a backtest ending at ``end`` replays."""
    return session.scalar(select(func.count()).select_from(Lead).where(Lead.created_at < end)) or 0


def lead_histories(
    database: Database,
    models: Sequence[ScoringModel],
    end: datetime,
    *,
    initial_stage: str,
    won_stage: str = "customer",
    batch: int = BATCH,
) -> Iterator[list[LeadHistory]]:
    """Batches of lead histories (id order) for replaying ``models`` up to ``end``."""
    after = 0
    while True:
        with database.unit_of_work(readonly=True) as uow:
            found = read_batch(
                uow.session,
                models,
                end,
                after=after,
                limit=batch,
                initial_stage=initial_stage,
                won_stage=won_stage,
            )
        if not found:
            return
        yield found
        after = found[-1].lead_id


def read_batch(
    session: Session,
    models: Sequence[ScoringModel],
    end: datetime,
    *,
    after: int,
    limit: int,
    initial_stage: str,
    won_stage: str = "customer",
) -> list[LeadHistory]:
    """Up to ``limit`` leads with id above ``after`` created before ``end``, with what
    replaying them needs."""
    leads = list(
        session.scalars(
            select(Lead)
            .where(Lead.id > after, Lead.created_at < end)
            .order_by(Lead.id)
            .limit(limit)
        )
    )
    if not leads:
        return []
    ids = [lead.id for lead in leads]
    account_ids = sorted({lead.account_id for lead in leads if lead.account_id is not None})
    attributes: dict[int, dict[str, object]] = {}
    if account_ids:
        accounts = select(Account).where(one_of(session, Account.id, account_ids, BigInteger()))
        attributes = {a.id: dict(a.attributes or {}) for a in session.scalars(accounts)}
    data_types = set().union(*(types_filtered_by_data(m) for m in models))
    events = read_events(session, ids, data_types, end)
    first_from, won_at = _stage_history(session, ids, won_stage)
    accepted_at = _accepted(session, ids)
    signal = any(model.account is not None for model in models)
    activity = _activity(session, account_ids, end) if signal and account_ids else {}
    out: list[LeadHistory] = []
    for lead in leads:
        account = lead.account_id
        # Created in: the first change's from-stage; a lead that never moved is still there.
        start = first_from.get(lead.id, lead.stage) or initial_stage
        out.append(
            LeadHistory(
                lead_id=lead.id,
                email=lead.email,
                profile=profile_of(lead),
                created_at=lead.created_at,
                start_stage=start,
                stage_now=lead.stage,
                events=events.get(lead.id, []),
                account_attributes=attributes.get(account, {}) if account is not None else {},
                account_activity=activity.get(account, []) if account is not None else [],
                won_at=won_at.get(lead.id),
                accepted_at=accepted_at.get(lead.id),
            )
        )
    return out


def _stage_history(
    session: Session, lead_ids: list[int], won_stage: str
) -> tuple[dict[int, str | None], dict[int, datetime]]:
    """Per lead: the from-stage of its first stage change, and when it first became won."""
    rows = session.execute(
        select(StageChange.lead_id, StageChange.from_stage, StageChange.to_stage, StageChange.at)
        .where(one_of(session, StageChange.lead_id, lead_ids, BigInteger()))
        .order_by(StageChange.lead_id, StageChange.at, StageChange.id)
    )
    first_from: dict[int, str | None] = {}
    won_at: dict[int, datetime] = {}
    for lead_id, from_stage, to_stage, at in rows:
        first_from.setdefault(lead_id, from_stage)
        if to_stage == won_stage:
            won_at.setdefault(lead_id, at)
    return first_from, won_at


def _accepted(session: Session, lead_ids: list[int]) -> dict[int, datetime]:
    """Per lead: when sales first accepted (or won) one of its handoffs."""
    rows = session.execute(
        select(Handoff.lead_id, func.min(HandoffAnswer.at))
        .join(HandoffAnswer, HandoffAnswer.handoff_id == Handoff.id)
        .where(
            one_of(session, Handoff.lead_id, lead_ids, BigInteger()),
            HandoffAnswer.outcome.in_(("accepted", "won")),
        )
        .group_by(Handoff.lead_id)
    )
    return {lead_id: _utc(at) for lead_id, at in rows if at is not None}


def _activity(
    session: Session, account_ids: list[int], end: datetime
) -> dict[int, list[AccountActivity]]:
    """Per account: each moment one of its leads had a real engagement event, up to ``end``
    (one entry per lead and moment)."""
    rows = session.execute(
        select(Lead.account_id, Event.lead_id, Event.occurred_at)
        .join(Lead, Lead.id == Event.lead_id)
        .where(
            one_of(session, Lead.account_id, account_ids, BigInteger()),
            Event.occurred_at <= end,
            Event.machine == false(),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .distinct()
    )
    found: dict[int, list[AccountActivity]] = defaultdict(list)
    for account_id, lead_id, at in rows:
        if account_id is not None and lead_id is not None:
            found[account_id].append(AccountActivity(lead_id, _utc(at)))
    return found


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
