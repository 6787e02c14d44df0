"""Who gets the lead: territory rules, weighted round robin, skips with reasons, stickiness."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurture.core.assignment import Assignment, RepSnapshot, assign
from nurture.core.conditions import AttributeIs, Op
from nurture.core.funnel import SendWindow
from nurture.core.handoff_model import AssignmentRule, HandoffModel, OutsideHours, Rep

WEEKDAYS = frozenset(range(5))
# Monday 2026-11-23 15:00 UTC: 10:00 in New York, 16:00 in Berlin, 07:00 in Los Angeles.
MONDAY_10AM_NEW_YORK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def rep(name: str, team: str = "sdr", **fields: object) -> Rep:
    return Rep(name=name, email=f"{name.lower()}@lumen.example", team=team, **fields)  # type: ignore[arg-type]


def hours(start: int, end: int, days: frozenset[int] = WEEKDAYS) -> SendWindow:
    return SendWindow(days, time(start), time(end))


def model(*reps: Rep, **options: object) -> HandoffModel:
    rules = (
        AssignmentRule("mql", "sdr"),
        AssignmentRule("sql", "ae-americas", AttributeIs("country", Op.IN, ("US", "CA"))),
        AssignmentRule("sql", "ae-emea"),
    )
    return HandoffModel(reps=reps, rules=rules, **options)  # type: ignore[arg-type]


class Desk:
    """Hands leads out one after another, keeping the states as the service stores them."""

    def __init__(self, handoff: HandoffModel, now: datetime = MONDAY_10AM_NEW_YORK) -> None:
        self.model = handoff
        self.now = now
        self.states: dict[str, RepSnapshot] = {}

    def hand(
        self,
        stage: str = "mql",
        *,
        owner: str | None = None,
        exclude: frozenset[str] = frozenset(),
        **facts: object,
    ) -> Assignment:
        result = assign(
            self.model, stage, facts, self.states, self.now, account_owner=owner, exclude=exclude
        )
        self.states.update(result.states)
        return result

    def picks(self, count: int, stage: str = "mql", **facts: object) -> list[str | None]:
        return [self.hand(stage, **facts).rep for _ in range(count)]

    def away(self, name: str, until: datetime) -> None:
        self.states[name] = RepSnapshot(away_until=until)


class TestRules:
    def test_territory_sends_american_sql_to_the_americas_and_the_rest_to_emea(self):
        desk = Desk(model(rep("Rachel", "ae-americas"), rep("Lena", "ae-emea")))
        assert desk.hand("sql", country="us").rep == "Rachel"  # country case does not matter
        assert desk.hand("sql", country="DE").rep == "Lena"
        emea = desk.hand("sql")  # no country: the catch-all rule
        assert (emea.rep, emea.team) == ("Lena", "ae-emea")
        assert emea.why["rule"] == {"number": 3, "stage": "sql", "team": "ae-emea", "when": None}

    def test_the_rule_that_matched_is_written_out(self):
        result = Desk(model(rep("Rachel", "ae-americas"))).hand("sql", country="CA")
        assert result.why["rule"] == {
            "number": 2,
            "stage": "sql",
            "team": "ae-americas",
            "when": "country in [US, CA]",
        }

    def test_a_stage_without_a_rule_hands_to_nobody(self):
        result = Desk(model(rep("Priya"))).hand("warm")
        assert (result.rep, result.team) == (None, None)
        assert result.why["reason"] == "no assignment rule for warm matches this lead"


class TestRoundRobin:
    def test_weights_two_one_one_share_every_four_leads_two_one_one_spread_out(self):
        desk = Desk(model(rep("Ana", weight=2), rep("Ben"), rep("Cleo")))
        picks = desk.picks(8)
        assert picks == ["Ana", "Ben", "Cleo", "Ana"] * 2
        assert Counter(desk.picks(400)) == {"Ana": 200, "Ben": 100, "Cleo": 100}

    @given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.integers(1, 4))
    def test_every_full_cycle_gives_each_rep_exactly_their_weight(self, weights, cycles):
        team = [rep(f"Rep{n}", weight=w) for n, w in enumerate(weights)]
        desk = Desk(model(*team))
        for _ in range(cycles):
            picks = Counter(desk.picks(sum(weights)))
            assert picks == {member.name: member.weight for member in team}
        assert all(state.current_weight == 0 for state in desk.states.values())

    def test_equal_weights_take_turns_in_name_order(self):
        desk = Desk(model(rep("Ben"), rep("Ana")))
        assert desk.picks(4) == ["Ana", "Ben", "Ana", "Ben"]
        assert desk.hand().why["method"] == "round_robin"

    def test_a_rep_back_from_holiday_is_not_flooded_with_catch_up_leads(self):
        desk = Desk(model(rep("Ana"), rep("Ben")))
        desk.away("Ben", MONDAY_10AM_NEW_YORK + timedelta(days=1))
        assert desk.picks(10) == ["Ana"] * 10
        desk.now += timedelta(days=1)
        assert desk.picks(4) in (["Ana", "Ben"] * 2, ["Ben", "Ana"] * 2)

    def test_the_reasons_are_json_ready(self):
        desk = Desk(model(rep("Ana"), rep("Ben", daily_cap=1)))
        desk.picks(3)
        json.dumps(desk.hand().why)


class TestSkips:
    def test_an_away_rep_is_skipped_until_the_moment_they_are_back(self):
        back = MONDAY_10AM_NEW_YORK + timedelta(hours=2)
        desk = Desk(model(rep("Ana"), rep("Ben")))
        desk.away("Ana", back)
        result = desk.hand()
        assert result.rep == "Ben"
        assert result.why["skipped"] == [
            {"rep": "Ana", "reason": "away until 2026-11-23 17:00 UTC"}
        ]
        desk.now = back
        assert desk.hand().rep == "Ana"

    def test_a_rep_at_their_daily_cap_is_skipped_until_their_own_next_day(self):
        ana = rep("Ana", daily_cap=2, time_zone="America/New_York")  # no hours: always on
        desk = Desk(model(ana, rep("Ben")), now=datetime(2026, 11, 24, 4, 30, tzinfo=UTC))
        # 23:30 on Monday in New York (already Tuesday in UTC)
        desk.states["Ben"] = RepSnapshot(away_until=desk.now + timedelta(days=1))
        assert desk.picks(2) == ["Ana", "Ana"]
        capped = desk.hand()
        assert capped.rep is None
        assert capped.why["skipped"] == [
            {"rep": "Ana", "reason": "daily cap 2 reached"},
            {"rep": "Ben", "reason": "away until 2026-11-25 04:30 UTC"},
        ]
        desk.now += timedelta(hours=1)  # 00:30 on Tuesday in New York: a new day
        assert desk.hand().rep == "Ana"
        assert desk.states["Ana"] == RepSnapshot(
            current_weight=0, day="2026-11-24", assigned_today=1
        )

    def test_a_rep_off_work_is_skipped_with_their_local_time(self):
        berlin = rep("Tom", time_zone="Europe/Berlin", hours=hours(9, 17))
        new_york = rep("Priya", time_zone="America/New_York", hours=hours(9, 17))
        desk = Desk(model(berlin, new_york), now=datetime(2026, 11, 23, 16, 30, tzinfo=UTC))
        # 17:30 in Berlin, 11:30 in New York
        result = desk.hand()
        assert result.rep == "Priya"
        assert result.why["skipped"] == [
            {"rep": "Tom", "reason": "outside working hours (17:30 in Europe/Berlin)"}
        ]

    def test_a_day_off_names_the_weekday(self):
        tom = rep("Tom", time_zone="Europe/Berlin", hours=hours(9, 17, frozenset(range(4))))
        friday = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 11:00 Friday in Berlin
        result = Desk(model(tom, rep("Ana")), now=friday).hand()
        assert result.why["skipped"] == [
            {"rep": "Tom", "reason": "outside working hours (Fri 11:00 in Europe/Berlin)"}
        ]

    def test_when_nobody_is_at_work_everyone_available_is_considered_and_why_says_so(self):
        tom = rep("Tom", time_zone="Europe/Berlin", hours=hours(9, 17))
        priya = rep("Priya", time_zone="America/New_York", hours=hours(9, 17))
        night = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 04:00 Berlin, 22:00 New York
        desk = Desk(model(tom, priya), now=night)
        desk.away("Tom", night + timedelta(days=3))
        result = desk.hand()
        assert result.rep == "Priya"
        assert (
            result.why["fallback"] == "nobody in sdr is at work now: all available reps considered"
        )
        assert result.why["skipped"] == [
            {"rep": "Tom", "reason": "away until 2026-11-27 03:00 UTC"}
        ]

    def test_outside_hours_ignore_hands_leads_to_reps_off_work(self):
        tom = rep("Tom", time_zone="Europe/Berlin", hours=hours(9, 17))
        evening = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
        handoff = model(tom, rep("Ana"), outside_hours=OutsideHours.IGNORE)
        assert sorted(Desk(handoff, now=evening).picks(2)) == ["Ana", "Tom"]

    def test_nobody_available_leaves_the_lead_unassigned_with_every_reason(self):
        desk = Desk(model(rep("Ana"), rep("Ben", daily_cap=1)))
        desk.states["Ben"] = RepSnapshot(day="2026-11-23", assigned_today=1)
        result = desk.hand(exclude=frozenset({"Ana"}))
        assert (result.rep, result.team, result.why["method"]) == (None, "sdr", "none")
        assert result.why["reason"] == "nobody in sdr is available"
        assert result.why["skipped"] == [
            {"rep": "Ana", "reason": "previous owner of this lead"},
            {"rep": "Ben", "reason": "daily cap 1 reached"},
        ]

    def test_an_excluded_previous_owner_is_passed_over(self):
        desk = Desk(model(rep("Ana"), rep("Ben")))
        assert desk.hand(exclude=frozenset({"Ana"})).rep == "Ben"


class TestStickiness:
    def test_a_lead_of_an_owned_account_goes_to_the_owner_without_using_a_turn(self):
        desk = Desk(model(rep("Ana"), rep("Ben")))
        result = desk.hand(owner="Ben")
        assert (result.rep, result.why["method"]) == ("Ben", "sticky")
        assert result.why["reason"] == "Ben owns the lead's account"
        assert desk.picks(2) == ["Ana", "Ben"]  # the round robin had not moved
        assert desk.states["Ben"].assigned_today == 2

    def test_an_away_owner_does_not_hold_the_lead(self):
        desk = Desk(model(rep("Ana"), rep("Ben")))
        desk.away("Ben", MONDAY_10AM_NEW_YORK + timedelta(days=2))
        result = desk.hand(owner="Ben")
        assert (result.rep, result.why["method"]) == ("Ana", "round_robin")
        assert result.why["sticky"] == "account owner Ben is not available"

    def test_an_owner_in_another_team_does_not_take_this_stage(self):
        desk = Desk(model(rep("Priya"), rep("Rachel", "ae-americas"), rep("Marcus", "ae-americas")))
        result = desk.hand("sql", owner="Priya", country="US")
        assert result.rep in ("Rachel", "Marcus")
        assert result.why["sticky"] == "account owner Priya is not in this team"

    def test_stickiness_can_be_turned_off(self):
        desk = Desk(model(rep("Ana"), rep("Ben"), sticky_accounts=False))
        assert desk.hand(owner="Ben").rep == "Ana"


def test_naive_now_is_refused():
    with pytest.raises(TypeError):
        assign(model(rep("Ana")), "mql", {}, {}, datetime(2026, 1, 1), account_owner=None)
