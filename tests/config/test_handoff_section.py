"""nurture.yaml's ``handoff`` section: the model it gives, and each mistake at its place.

``HANDOFF`` replaces ``handoff: {}`` on line 24 of conftest's PIPELINE, so its first line is
line 24 of nurture.yaml; each test breaks one line of it.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from nurture.config import ConfigProblem, load_funnel
from nurture.core.conditions import AttributeIs, Op
from nurture.core.funnel import SendWindow
from nurture.core.handoff_model import (
    AssignmentRule,
    Channel,
    HandoffModel,
    OutsideHours,
    Rep,
    Sla,
)

HANDOFF = """\
handoff:
  reps:
    - {name: Priya Shah, email: priya@lumen.example, slack: U024BE7LH, team: sdr, weight: 2,
       time_zone: America/New_York, days: [mon, tue, wed, thu], hours: "09:00-17:30",
       daily_cap: 25}
    - {name: Tom Becker, email: tom@lumen.example, team: sdr, time_zone: Europe/Berlin}
    - {name: Rachel Kim, email: rachel@lumen.example, team: ae-americas, hours: "08:30-17:00"}
    - {name: Lena Fischer, email: lena@lumen.example, team: ae-emea}
  assignment:
    - {stage: mql, team: sdr}
    - {stage: sql, team: ae-americas, when: {attribute: country, in: [US, CA]}}
    - {stage: sql, team: ae-emea}
  outside_hours: ignore
  sticky_accounts: false
  channels: [slack, teams]
  sla:
    mql: {remind_after: 4h, reassign_after: 8h}
  feedback:
    rejected: {not_now: cold, no_response: null}
    lost: null
"""


@pytest.fixture
def handoff(funnel):
    funnel.replace("nurture.yaml", "handoff: {}\n", HANDOFF)
    return funnel


def at(problem: ConfigProblem) -> tuple[int, int, str]:
    return problem.line, problem.column, problem.path


def test_the_section_gives_the_model(handoff):
    model = load_funnel(handoff.path).handoff
    assert model.reps[0] == Rep(
        name="Priya Shah",
        email="priya@lumen.example",
        team="sdr",
        slack_id="U024BE7LH",
        weight=2,
        time_zone="America/New_York",
        hours=SendWindow(frozenset(range(4)), time(9), time(17, 30)),
        daily_cap=25,
    )
    assert model.reps[1].hours is None and model.reps[1].weight == 1  # always at work
    assert model.reps[2].hours == SendWindow(frozenset(range(5)), time(8, 30), time(17))
    assert model.reps[2].time_zone == "UTC"
    assert model.rules == (
        AssignmentRule("mql", "sdr"),
        AssignmentRule("sql", "ae-americas", AttributeIs("country", Op.IN, ("US", "CA"))),
        AssignmentRule("sql", "ae-emea"),
    )
    assert (model.outside_hours, model.sticky_accounts) == (OutsideHours.IGNORE, False)
    assert model.channels == (Channel.SLACK, Channel.TEAMS)
    assert model.sla == {"mql": Sla(timedelta(hours=4), timedelta(hours=8))}
    assert model.feedback.rejected == {  # written over the defaults; null: stays put
        "bad_fit": "disqualified",
        "not_now": "cold",
        "no_budget": "recycled",
        "wrong_contact": "recycled",
    }
    assert model.feedback.lost is None and model.feedback.accepted == {"mql": "sql"}
    assert model.stages == {"mql", "sql"} and not model.empty


def test_an_empty_section_hands_nobody_to_sales(funnel):
    assert load_funnel(funnel.path).handoff == HandoffModel()


class TestReps:
    def test_a_duplicate_name_points_at_the_first(self, handoff):
        handoff.replace("nurture.yaml", "name: Tom Becker", "name: Priya Shah")
        problem = handoff.only_problem()
        assert at(problem) == (29, 14, "handoff.reps[1].name")
        assert problem.message == (
            "found 'Priya Shah'; expected a name of its own (also used by the rep at line 26)"
        )

    def test_the_same_email_in_another_case_is_a_duplicate(self, handoff):
        handoff.replace("nurture.yaml", "tom@lumen.example", "PRIYA@lumen.example")
        assert at(handoff.only_problem()) == (29, 33, "handoff.reps[1].email")

    def test_a_misspelt_time_zone_gets_a_suggestion(self, handoff):
        handoff.replace("nurture.yaml", "Europe/Berlin", "Europe/Berln")
        problem = handoff.only_problem()
        assert problem.path == "handoff.reps[1].time_zone"
        assert problem.hint == "Europe/Berlin"

    @pytest.mark.parametrize(
        ("old", "new", "path", "expected"),
        [
            ('"09:00-17:30"', '"9 to 5:30"', "reps[0].hours", 'hours such as "09:00-17:00"'),
            ("thu]", "thurs]", "reps[0].days[3]", "a day: mon, tue"),
            ("weight: 2", "weight: 0", "reps[0].weight", "a whole number of at least 1"),
            ("daily_cap: 25", "daily_cap: 0", "reps[0].daily_cap", "a whole number of leads"),
            ("U024BE7LH", "priya", "reps[0].slack", "a Slack member id such as U024BE7LH"),
            ("email: lena@lumen.example", "email: lena", "reps[3].email", "an email address"),
        ],
    )
    def test_a_bad_value_says_what_to_write(self, handoff, old, new, path, expected):
        handoff.replace("nurture.yaml", old, new)
        problem = handoff.only_problem()
        assert problem.path == f"handoff.{path}"
        assert expected in problem.message

    def test_a_missing_team_is_named(self, handoff):
        handoff.replace("nurture.yaml", ", team: ae-emea}", "}")
        problem = handoff.only_problem()
        assert (problem.path, problem.message) == ("handoff.reps[3]", "missing key 'team'")


class TestAssignment:
    def test_an_unknown_team_lists_the_teams_and_suggests_one(self, handoff):
        handoff.replace("nurture.yaml", "team: ae-emea}\n  outside", "team: ae-emae}\n  outside")
        problem = handoff.only_problem()
        assert at(problem) == (35, 26, "handoff.assignment[2].team")
        assert problem.message == (
            "found 'ae-emae'; expected a team of handoff.reps: ae-americas, ae-emea, sdr"
        )
        assert problem.hint == "ae-emea"

    def test_a_rule_stage_must_be_on_the_ladder(self, handoff):
        handoff.replace("nurture.yaml", "{stage: mql, team: sdr}", "{stage: recycled, team: sdr}")
        problem = handoff.only_problem()
        assert problem.path == "handoff.assignment[0].stage"
        assert problem.message == (
            "found 'recycled'; expected a stage of the ladder: cold, warm, mql, sql, customer"
        )

    def test_a_rule_behind_a_catch_all_for_its_stage_is_refused(self, handoff):
        handoff.replace(
            "nurture.yaml",
            "    - {stage: sql, team: ae-emea}\n",
            "    - {stage: sql, team: ae-emea}\n    - {stage: sql, team: sdr}\n",
        )
        problem = handoff.only_problem()
        assert at(problem) == (36, 7, "handoff.assignment[3]")
        assert "after the one at line 35, which has no when" in problem.message

    def test_territory_cannot_depend_on_engagement(self, handoff):
        handoff.replace("nurture.yaml", "{attribute: country, in: [US, CA]}", "{engaged: clicked}")
        problem = handoff.only_problem()
        assert problem.path == "handoff.assignment[1].when"
        assert problem.message.startswith("found an engagement condition; expected conditions")


class TestOptions:
    def test_an_unknown_key_suggests_the_right_one(self, handoff):
        handoff.replace("nurture.yaml", "sticky_accounts:", "stiky_accounts:")
        problem = handoff.only_problem()
        assert (problem.path, problem.message, problem.hint) == (
            "handoff.stiky_accounts",
            "unknown key",
            "sticky_accounts",
        )

    def test_a_misspelt_channel_gets_a_suggestion(self, handoff):
        handoff.replace("nurture.yaml", "[slack, teams]", "[slak, teams]")
        problem = handoff.only_problem()
        assert at(problem) == (38, 14, "handoff.channels[0]")
        assert problem.hint == "slack"

    def test_outside_hours_is_skip_or_ignore(self, handoff):
        handoff.replace("nurture.yaml", "outside_hours: ignore", "outside_hours: queue")
        assert handoff.only_problem().message.startswith("found 'queue'; expected skip")

    def test_an_sla_for_a_stage_nobody_hands_off_is_refused(self, handoff):
        handoff.replace("nurture.yaml", "    mql: {remind", "    warm: {remind")
        problem = handoff.only_problem()
        assert at(problem) == (40, 5, "handoff.sla.warm")
        assert "expected a stage of handoff.assignment (mql, sql)" in problem.message

    def test_reassigning_before_the_reminder_is_refused(self, handoff):
        handoff.replace("nurture.yaml", "reassign_after: 8h", "reassign_after: 2h")
        problem = handoff.only_problem()
        assert problem.path == "handoff.sla.mql.reassign_after"
        assert "a duration longer than remind_after (4h)" in problem.message

    def test_an_unknown_reject_reason_lists_the_known_ones(self, handoff):
        handoff.replace("nurture.yaml", "not_now: cold", "not_nw: cold")
        problem = handoff.only_problem()
        assert problem.path == "handoff.feedback.rejected.not_nw"
        assert problem.hint == "not_now"
        assert "bad_fit, not_now, no_budget, no_response, wrong_contact" in problem.message

    def test_a_feedback_target_must_be_a_stage(self, handoff):
        handoff.replace("nurture.yaml", "not_now: cold", "not_now: recyled")
        problem = handoff.only_problem()
        assert problem.path == "handoff.feedback.rejected.not_now"
        assert problem.hint == "recycled"
