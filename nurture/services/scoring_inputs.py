"""What scoring reads about a batch of leads, in four queries whatever the batch's size:
the leads (locked, id order), their accounts, their events (with the step of the email each
refers to) and, for the account signal, when other leads of the same accounts engaged.

Event ``data`` (a provider's whole raw payload) is read only for the event types some rule
filters on by data: most events never need it, and it is most of an event's bytes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, false, func, null, select
from sqlalchemy.orm import Session

from nurture.core.scoring_model import AccountActivity, ScoredEvent, ScoringModel
from nurture.core.scoring_scope import counted_events
from nurture.services.statements import dialect_of, ids_in, planned_for_values
from nurture.store.models import Account, Event, Lead, Message

#: Delivery facts, not engagement: they never count as a lead "engaging".
DELIVERY_TYPES = ("delivered", "deferred", "dropped", "bounced")


@dataclass
class ScoringInputs:
    leads: list[Lead]  # id order
    accounts: dict[int, dict[str, object]] = field(default_factory=dict)  # attributes by id
    events: dict[int, list[ScoredEvent]] = field(default_factory=dict)
    activity: dict[int, list[AccountActivity]] = field(default_factory=dict)  # by account id

    def account_attributes(self, lead: Lead) -> dict[str, object]:
        if lead.account_id is None:
            return {}
        return dict(self.accounts.get(lead.account_id, {}))

    def account_activity(self, lead: Lead) -> list[AccountActivity]:
        return self.activity.get(lead.account_id, []) if lead.account_id is not None else []


def load_inputs(
    session: Session,
    lead_ids: Sequence[int],
    model: ScoringModel,
    now: datetime,
    *,
    lock: bool = True,
) -> ScoringInputs:
    """Read (and with ``lock``, lock FOR NO KEY UPDATE) the leads and what scores them."""
    dialect = dialect_of(session)
    ids = sorted(set(lead_ids))
    leads = list(session.scalars(_leads_query(dialect, lock), {"ids": ids}))
    inputs = ScoringInputs(leads)
    if not leads:
        return inputs
    account_ids = sorted({lead.account_id for lead in leads if lead.account_id is not None})
    if account_ids:
        rows = session.execute(_accounts_query(dialect), {"ids": account_ids})
        inputs.accounts = {account_id: attributes or {} for account_id, attributes in rows}
    data_types = types_filtered_by_data(model)
    events = read_events(session, [lead.id for lead in leads], data_types)
    inputs.events = {  # a recycled lead counts only what it did since (counted_events)
        lead.id: list(counted_events(found, model, lead.stage, lead.stage_entered_at))
        for lead in leads
        if (found := events.get(lead.id))
    }
    if model.account is not None and account_ids:
        inputs.activity = _activity(session, account_ids, now - model.account.window, now)
    return inputs


def read_events(
    session: Session,
    lead_ids: list[int],
    data_types: Iterable[str],
    end: datetime | None = None,
) -> dict[int, list[ScoredEvent]]:
    """The leads' events as scoring sees them (up to ``end`` when given), with the step of
    the email each refers to and ``data`` only for ``data_types``."""
    query = _events_query(dialect_of(session), tuple(sorted(data_types)), end is not None)
    params: dict[str, object] = {"ids": lead_ids} | ({"end": end} if end is not None else {})
    # Plain rows, fetched at once: no ORM result machinery and no fetchone() per row.
    rows = session.connection().execute(query, params).all()
    found: dict[int, list[ScoredEvent]] = defaultdict(list)
    for lead_id, event_id, kind, at, url, step, payload, machine in rows:
        found[lead_id].append(
            ScoredEvent(event_id, kind, at, url, step, payload or {}, bool(machine))
        )
    return found


def types_filtered_by_data(model: ScoringModel) -> set[str]:
    """Event types whose ``data`` some rule of ``model`` reads."""
    filters = [rule.match for rule in model.engagement_rules]
    filters += [rule.match for rule in model.hand_raisers]
    filters += [p.match for p in model.patterns if p.match is not None]
    return {f.type for f in filters if f.data}


def _activity(
    session: Session, account_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[AccountActivity]]:
    """Per account: each of its leads with a real engagement event in (start, end], at the
    latest such event."""
    params = {"ids": account_ids, "start": start, "end": end}
    with planned_for_values(session):
        rows = session.execute(_activity_query(dialect_of(session)), params).all()
    found: dict[int, list[AccountActivity]] = defaultdict(list)
    for account_id, lead_id, at in rows:
        if account_id is None or lead_id is None:
            continue
        found[account_id].append(AccountActivity(lead_id, _utc(at)))
    return found


@cache
def _leads_query(dialect: str, lock: bool) -> Select[Lead]:
    query = select(Lead).where(ids_in(dialect, Lead.id, "ids")).order_by(Lead.id)
    return query.with_for_update(key_share=True) if lock else query


@cache
def _accounts_query(dialect: str) -> Select[int, dict[str, Any] | None]:
    return select(Account.id, Account.attributes).where(ids_in(dialect, Account.id, "ids"))


@cache
def _events_query(dialect: str, data_types: tuple[str, ...], until: bool) -> Select[Any]:
    data = case((Event.type.in_(data_types), Event.data), else_=null()) if data_types else null()
    query = (
        select(
            Event.lead_id,
            Event.id,
            Event.type,
            Event.occurred_at,
            Event.url,
            Message.step_id,
            data,
            Event.machine,
        )
        .outerjoin(Message, Message.id == Event.message_id)
        .where(ids_in(dialect, Event.lead_id, "ids"))
    )
    return query.where(Event.occurred_at <= bindparam("end")) if until else query


@cache
def _activity_query(dialect: str) -> Select[int | None, int | None, datetime]:
    return (
        select(Lead.account_id, Event.lead_id, func.max(Event.occurred_at))
        .join(Lead, Lead.id == Event.lead_id)
        .where(
            ids_in(dialect, Lead.account_id, "ids"),
            Event.occurred_at > bindparam("start"),
            Event.occurred_at <= bindparam("end"),
            Event.machine == false(),
            Event.type.not_in(DELIVERY_TYPES),
        )
        .group_by(Lead.account_id, Event.lead_id)
    )


def _utc(value: datetime) -> datetime:
    """``max()`` over a UTC column comes back naive from SQLite."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
