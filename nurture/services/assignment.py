"""Assign a handoff to a rep, fairly when many handoffs happen at once; reps' availability.

The round robin's state (``rep_states``) is read and written in the caller's transaction
with every rep's row locked (``SELECT … FOR UPDATE`` in name order on PostgreSQL; SQLite
write transactions begin IMMEDIATE, which serialises them), so two simultaneous handoffs
never take the same turn. The locks are held until the caller commits: take them last in
a transaction that locks other rows, and keep that transaction short.

Services never commit (STYLE): the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import cast as typed

from sqlalchemy import BigInteger, Select, Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from nurture.config.problems import did_you_mean
from nurture.core.assignment import Assignment, RepSnapshot, assign
from nurture.core.funnel import Funnel
from nurture.core.handoff_model import HandoffModel, Rep
from nurture.core.scoring import fit_facts
from nurture.core.windows import END_OF_DAY
from nurture.core.working_time import at_work, local_day
from nurture.errors import NotFound
from nurture.services.engagement_match import one_of
from nurture.services.situation import profile_of
from nurture.services.webhook_tokens import insert_ignoring_conflicts
from nurture.store.models import Account, Lead, RepState

__all__ = ["RepStatus", "assign_lead", "assign_leads", "find_rep", "rep_statuses", "set_away"]


def assign_lead(
    session: Session,
    funnel: Funnel,
    lead: Lead,
    stage: str,
    now: datetime,
    *,
    exclude: frozenset[str] = frozenset(),
) -> Assignment:
    """Choose the rep for ``lead`` reaching ``stage`` and record the turn (``assign_leads``
    for one). ``exclude``: reps who may not have it (the previous owner, on SLA
    reassignment)."""
    [assignment] = assign_leads(session, funnel, [(lead, stage)], now, exclude=exclude)
    return assignment


def assign_leads(
    session: Session,
    funnel: Funnel,
    requests: Sequence[tuple[Lead, str]],
    now: datetime,
    *,
    exclude: frozenset[str] = frozenset(),
    accounts: Mapping[int, Account] | None = None,
) -> list[Assignment]:
    """Choose the rep for each lead reaching its stage, in order, as if one at a time: the
    reps' rows are locked once, the turns taken in memory and written back once. A lead's
    account gets the rep as its owner when it has none, so a colleague later in the same
    batch sticks to them too. ``accounts``: the leads' accounts, if the caller has them."""
    if not requests:
        return []
    model = funnel.handoff
    if accounts is None:
        accounts = accounts_of(session, [lead.account_id for lead, _ in requests])
    rows = {row.name: row for row in _lock(session, [rep.name for rep in model.reps], now)}
    states = {name: _snapshot(row) for name, row in rows.items()}
    owners = {account_id: account.owner for account_id, account in accounts.items()}
    claimed: dict[int, str] = {}
    out = []
    for lead, stage in requests:
        account = accounts.get(lead.account_id) if lead.account_id is not None else None
        facts = fit_facts(profile_of(lead), dict(account.attributes or {}) if account else {})
        owner = owners.get(account.id) if account is not None else None
        result = assign(model, stage, facts, states, now, account_owner=owner, exclude=exclude)
        states.update(result.states)
        if result.rep is not None and account is not None and owner is None:
            owners[account.id] = claimed[account.id] = result.rep
        out.append(result)
    _store_turns(session, rows, states, now)
    if claimed:
        # Conditional: a concurrent handoff of a colleague may have claimed the account.
        table = typed(Table, Account.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("account_id"), table.c.owner.is_(None))
            .values(owner=bindparam("rep"), updated_at=now),
            [{"account_id": a, "rep": rep} for a, rep in sorted(claimed.items())],
        )
    return out


def _store_turns(
    session: Session, rows: Mapping[str, RepState], states: Mapping[str, RepSnapshot], now: datetime
) -> None:
    """Write the changed reps' turns in one statement, and onto their loaded rows."""
    changed = [
        {
            "rep": name,
            "current_weight": state.current_weight,
            "day": state.day,
            "assigned_today": state.assigned_today,
            "updated_at": now,
        }
        for name, state in sorted(states.items())
        if _snapshot(rows[name]) != state
    ]
    if not changed:
        return
    table = typed(Table, RepState.__table__)
    values: dict[str, Any] = {key: bindparam(key) for key in changed[0] if key != "rep"}
    session.execute(update(table).where(table.c.name == bindparam("rep")).values(values), changed)
    for change in changed:
        for key, value in change.items():
            if key != "rep":
                set_committed_value(rows[typed(str, change["rep"])], key, value)


def accounts_of(session: Session, ids: Iterable[int | None]) -> dict[int, Account]:
    """The accounts of ``ids`` in one query (objects already loaded come from the session).
    Keep the dict while the objects are needed: the session holds them weakly."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    query = select(Account).where(one_of(session, Account.id, wanted, BigInteger()))
    return {account.id: account for account in session.scalars(query)}


def set_away(session: Session, name: str, until: datetime | None, now: datetime) -> None:
    """Mark rep ``name`` away until ``until`` (None: back now). The name is the caller's to
    check (``find_rep``): state may outlive a rep's removal from nurture.yaml."""
    [row] = _lock(session, [name], now)
    row.away_until = until
    row.updated_at = now


@dataclass(frozen=True)
class RepStatus:
    """A rep as sales managers see them today."""

    rep: Rep
    away_until: datetime | None
    assigned_today: int
    at_work: bool

    def available(self, now: datetime) -> bool:
        return self.away_until is None or self.away_until <= now

    def as_dict(self, now: datetime) -> dict[str, object]:
        rep = self.rep
        return {
            "name": rep.name,
            "team": rep.team,
            "email": rep.email,
            "weight": rep.weight,
            "time_zone": rep.time_zone,
            "hours": working_hours_text(rep),
            "daily_cap": rep.daily_cap,
            "away_until": self.away_until.isoformat() if self.away_until else None,
            "assigned_today": self.assigned_today,
            "at_work": self.at_work,
            "available": self.available(now),
        }


def rep_statuses(session: Session, model: HandoffModel, now: datetime) -> list[RepStatus]:
    """Every rep of the model, in config order, with today's count in their own date."""
    names = [rep.name for rep in model.reps]
    rows = {row.name: row for row in session.scalars(_by_name(names))} if names else {}
    out = []
    for rep in model.reps:
        state = _snapshot(rows[rep.name]) if rep.name in rows else RepSnapshot()
        away = state.away_until if state.away_until and state.away_until > now else None
        count = state.count_on(local_day(rep, now))
        out.append(RepStatus(rep, away, count, at_work(rep, now)))
    return out


def find_rep(model: HandoffModel, name: str) -> Rep:
    """The rep called ``name``; NotFound names the known reps and the likely one."""
    rep = model.rep(name)
    if rep is not None:
        return rep
    names = [r.name for r in model.reps]
    hint = did_you_mean(name, names)
    guess = f" (did you mean {hint!r}?)" if hint else ""
    known = ", ".join(names) if names else "none: add them under handoff.reps in nurture.yaml"
    raise NotFound(f"no rep named {name!r}{guess}; reps: {known}")


def working_hours_text(rep: Rep) -> str:
    """``mon-fri 09:00-17:30 America/New_York``; ``always`` for a rep without hours."""
    if rep.hours is None:
        return "always"
    days = sorted(rep.hours.days)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        span = f"{names[days[0]]}-{names[days[-1]]}"
    else:
        span = ",".join(names[d] for d in days)
    end = "24:00" if rep.hours.end == END_OF_DAY else f"{rep.hours.end:%H:%M}"
    return f"{span} {rep.hours.start:%H:%M}-{end} {rep.time_zone}"


def _lock(session: Session, names: Iterable[str], now: datetime) -> list[RepState]:
    """The reps' state rows, created if missing, locked in name order and read fresh.
    Callers pass every rep of the funnel, not only the team's: a batch that hands leads to
    two teams would otherwise lock them in the order its leads come, and two such batches
    deadlock (bench/handoff_latency.py found it). Once a transaction holds them, locking them
    again for its next handoff waits for nothing."""
    ordered = sorted(set(names))
    if not ordered:
        return []
    query = _by_name(ordered).with_for_update().execution_options(populate_existing=True)
    rows = list(session.scalars(query))
    missing = sorted(set(ordered) - {row.name for row in rows})
    if not missing:
        return rows
    fresh = [
        {"name": name, "current_weight": 0, "assigned_today": 0, "updated_at": now}
        for name in missing
    ]
    session.execute(insert_ignoring_conflicts(session, RepState, "name"), fresh)
    return list(session.scalars(query))


def _by_name(names: list[str]) -> Select[RepState]:
    return select(RepState).where(RepState.name.in_(names)).order_by(RepState.name)


def _snapshot(row: RepState) -> RepSnapshot:
    return RepSnapshot(row.away_until, row.current_weight, row.day, row.assigned_today)
