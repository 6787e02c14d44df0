"""assign_lead and set_away against a real database, on both backends: the turn is stored,
the account gets an owner, and many simultaneous handoffs share the team exactly by weight."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from nurture.core.conditions import AttributeIs, Op
from nurture.core.funnel import Funnel
from nurture.core.handoff_model import AssignmentRule, HandoffModel, Rep
from nurture.errors import NotFound
from nurture.services.assignment import (
    assign_lead,
    assign_leads,
    find_rep,
    rep_statuses,
    set_away,
)
from nurture.services.uow import Database
from nurture.store.models import Account, Lead, RepState
from tests.support import small_funnel

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def team_funnel() -> Funnel:
    reps = (
        Rep("Ana", "ana@lumen.example", "sdr", weight=2),
        Rep("Ben", "ben@lumen.example", "sdr"),
        Rep("Cleo", "cleo@lumen.example", "sdr", daily_cap=60),
        Rep("Lena", "lena@lumen.example", "ae-emea"),
        Rep("Rachel", "rachel@lumen.example", "ae-americas"),
    )
    rules = (
        AssignmentRule("mql", "sdr"),
        AssignmentRule("sql", "ae-emea", AttributeIs("account.region", Op.EQ, "emea")),
        AssignmentRule("sql", "ae-americas"),
    )
    return replace(small_funnel(), handoff=HandoffModel(reps=reps, rules=rules))


def add_leads(
    database: Database, count: int, domain: str | None = None, **account: object
) -> list[int]:
    with database.unit_of_work() as uow:
        owner = None
        if domain is not None:
            owner = Account(domain=domain, attributes=account, created_at=NOW, updated_at=NOW)
            uow.session.add(owner)
            uow.session.flush()
        leads = [
            Lead(
                email=f"lead{n}@{domain or 'example.com'}",
                time_zone="UTC",
                stage="warm",
                account_id=owner.id if owner else None,
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(count)
        ]
        uow.session.add_all(leads)
        uow.session.flush()
        return [lead.id for lead in leads]


def hand(database: Database, funnel: Funnel, lead_id: int, stage: str = "mql", **options):
    with database.unit_of_work() as uow:
        lead = uow.session.get(Lead, lead_id)
        assert lead is not None
        return assign_lead(uow.session, funnel, lead, stage, NOW, **options)


def owner_of(database: Database, domain: str) -> str | None:
    with database.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(Account.owner).where(Account.domain == domain))


def test_turns_are_stored_so_the_next_handoff_goes_to_the_next_rep(database):
    funnel = team_funnel()
    ids = add_leads(database, 4)
    assert [hand(database, funnel, i).rep for i in ids] == ["Ana", "Ben", "Cleo", "Ana"]
    with database.unit_of_work(readonly=True) as uow:
        sdr = select(RepState).where(RepState.name.in_(["Ana", "Ben", "Cleo"]))
        states = {row.name: row for row in uow.session.scalars(sdr)}
    assert {name: row.assigned_today for name, row in states.items()} == {
        "Ana": 2,
        "Ben": 1,
        "Cleo": 1,
    }
    assert sum(row.current_weight for row in states.values()) == 0
    assert {row.day for row in states.values()} == {"2026-11-23"}


def test_the_first_rep_owns_the_account_and_its_next_lead_sticks_to_them(database):
    funnel = team_funnel()
    first, second = add_leads(database, 2, "northwind.example")
    hand(database, funnel, add_leads(database, 1)[0])  # Ana takes a turn elsewhere
    assert hand(database, funnel, first).rep == "Ben"
    assert owner_of(database, "northwind.example") == "Ben"
    again = hand(database, funnel, second)
    assert (again.rep, again.why["method"]) == ("Ben", "sticky")


def test_territory_reads_account_attributes(database):
    funnel = team_funnel()
    [emea] = add_leads(database, 1, "contoso.example", region="emea")
    [other] = add_leads(database, 1, "fabrikam.example", region="americas")
    assert hand(database, funnel, emea, "sql").rep == "Lena"
    assert hand(database, funnel, other, "sql").rep == "Rachel"


def test_an_away_rep_is_skipped_and_listed_as_away_until_they_are_back(database):
    funnel = team_funnel()
    back = NOW + timedelta(days=3)
    with database.unit_of_work() as uow:
        set_away(uow.session, "Ana", back, NOW)
    picks = [hand(database, funnel, i).rep for i in add_leads(database, 4)]
    assert "Ana" not in picks
    with database.unit_of_work(readonly=True) as uow:
        statuses = {s.rep.name: s for s in rep_statuses(uow.session, funnel.handoff, NOW)}
    assert statuses["Ana"].away_until == back and not statuses["Ana"].available(NOW)
    assert statuses["Ben"].assigned_today == 2 and statuses["Ben"].available(NOW)
    with database.unit_of_work() as uow:
        set_away(uow.session, "Ana", None, NOW)
    assert hand(database, funnel, add_leads(database, 1, "x.example")[0]).rep == "Ana"


def test_sla_reassignment_passes_over_the_previous_owner(database):
    [lead] = add_leads(database, 1)
    assert hand(database, team_funnel(), lead, exclude=frozenset({"Ana"})).rep == "Ben"


def test_an_unknown_rep_name_gets_a_suggestion_and_the_known_names():
    with pytest.raises(NotFound, match=r"no rep named 'Bne' \(did you mean 'Ben'\?\); reps: Ana"):
        find_rep(team_funnel().handoff, "Bne")


def test_200_simultaneous_handoffs_share_a_2_1_1_team_exactly(database):
    """8 threads, each handoff in its own transaction: 100/50/50 means no two handoffs took
    the same turn (a lost update would skew the shares or the stored weights)."""
    funnel = team_funnel()
    ids = add_leads(database, 200)
    picks: list[str | None] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(chunk: list[int]) -> None:
        start.wait()
        for lead_id in chunk:
            rep = hand(database, funnel, lead_id).rep
            with lock:
                picks.append(rep)

    threads = [threading.Thread(target=worker, args=(ids[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(picks) == {"Ana": 100, "Ben": 50, "Cleo": 50}
    with database.unit_of_work(readonly=True) as uow:
        rows = list(uow.session.scalars(select(RepState).order_by(RepState.name)))
    counts = {row.name: row.assigned_today for row in rows}
    assert counts == {"Ana": 100, "Ben": 50, "Cleo": 50, "Lena": 0, "Rachel": 0}
    rows = [row for row in rows if row.name in ("Ana", "Ben", "Cleo")]
    assert [row.current_weight for row in rows] == [0, 0, 0]  # after 50 full cycles


def test_two_batches_handing_off_to_two_teams_in_opposite_order_do_not_deadlock(database):
    """Each transaction hands one lead to each AE team, in opposite orders, and both have
    made their first handoff before their second (as far as the locks let them): locking
    only the team's rows would deadlock (PostgreSQL kills one); every rep's rows locked in
    name order makes the second transaction wait for the first instead."""
    funnel = team_funnel()
    [emea] = add_leads(database, 1, "emea.example", region="emea")
    [americas] = add_leads(database, 1, "americas.example", region="americas")
    both_started = threading.Barrier(2)
    errors: list[BaseException] = []
    picks: list[str | None] = []

    def batch(first: int, second: int) -> None:
        try:
            with database.unit_of_work() as uow:
                for n, lead_id in enumerate((first, second)):
                    lead = uow.session.get(Lead, lead_id)
                    assert lead is not None
                    picks.append(assign_lead(uow.session, funnel, lead, "sql", NOW).rep)
                    if n == 0:  # a broken barrier: the other waits for our locks, as it should
                        with contextlib.suppress(threading.BrokenBarrierError):
                            both_started.wait(timeout=2)
        except BaseException as exc:  # a deadlock victim, on the old locking
            errors.append(exc)

    threads = [
        threading.Thread(target=batch, args=(emea, americas)),
        threading.Thread(target=batch, args=(americas, emea)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Counter(picks) == {"Lena": 2, "Rachel": 2}


def test_a_batch_takes_the_same_turns_as_one_at_a_time_and_sticks_within_itself(database):
    """process_engagement hands a batch's leads over together (assign_leads): the turns are
    those of one handoff after another, and a colleague later in the batch goes to the rep
    the batch just made the account's owner."""
    funnel = team_funnel()
    loose = add_leads(database, 3)
    first, colleague = add_leads(database, 2, "northwind.example")
    with database.unit_of_work() as uow:
        leads = [uow.session.get(Lead, i) for i in (*loose, first, colleague)]
        requests = [(lead, "mql") for lead in leads if lead is not None]
        picks = assign_leads(uow.session, funnel, requests, NOW)
    assert [(p.rep, p.why["method"]) for p in picks] == [
        ("Ana", "round_robin"),
        ("Ben", "round_robin"),
        ("Cleo", "round_robin"),
        ("Ana", "round_robin"),
        ("Ana", "sticky"),
    ]
    assert owner_of(database, "northwind.example") == "Ana"
    with database.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(select(RepState.name, RepState.assigned_today))
        counts = {name: count for name, count in rows}
    assert (counts["Ana"], counts["Ben"], counts["Cleo"]) == (3, 1, 1)  # the batch was stored
