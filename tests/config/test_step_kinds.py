"""Step kinds and branch conditions: each malformed form, at its exact place.

Each test replaces the ``pause`` step (lines 6-7 of the conftest sequence) with the step
under test, so that step always starts on line 6:

    1 id: cold-basic          4   - id: welcome            6   - id: <under test>
    2 stages: [cold]          5     send: {...}            7     <kind>: ...
    3 steps:
"""

from __future__ import annotations

import pytest

from tests.config.conftest import at

SEQ = "sequences/cold-basic.yaml"
PAUSE = "  - id: pause\n    wait: 2d\n"


def with_step(funnel, step: str) -> None:
    funnel.replace(SEQ, PAUSE, step)


class TestKinds:
    def test_step_without_a_kind(self, funnel):
        with_step(funnel, "  - id: pause\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 6, 5)
        assert problem.path == "steps[1]"
        assert problem.message == (
            "found no step kind; expected exactly one of send, wait, wait_for, branch, goal, exit"
        )

    def test_step_with_two_kinds_names_both(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: 2d\n    exit: completed\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 8, 5)
        assert problem.message.startswith("found 'wait' and 'exit'; expected exactly one of")

    def test_misspelt_kind_gets_a_did_you_mean_and_nothing_else(self, funnel):
        with_step(funnel, "  - id: pause\n    wiat: 2d\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 5)
        assert (problem.path, problem.message, problem.hint) == (
            "steps[1].wiat",
            "unknown key",
            "wait",
        )

    def test_step_without_an_id(self, funnel):
        with_step(funnel, "  - wait: 2d\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 6, 5)
        assert problem.message == "missing key 'id'"

    def test_step_that_is_not_a_mapping(self, funnel):
        with_step(funnel, "  - pause\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 6, 5)
        assert problem.message.startswith("found 'pause'; expected a step")

    @pytest.mark.parametrize(
        ("step", "expected"),
        [
            ("  - id: pause\n    exit: completed\n    goto: done\n", "found goto on an exit step"),
            (
                "  - id: pause\n    branch: {cases: [{when: {not: {attribute: x, exists: true}},"
                " goto: done}]}\n    goto: done\n",
                "expected 'otherwise'",
            ),
            (
                "  - id: pause\n    wait_for: {event: opened, timeout: 1d}\n    goto: done\n",
                "expected 'on_event' / 'on_timeout'",
            ),
        ],
        ids=["exit", "branch", "wait_for"],
    )
    def test_goto_where_the_kind_says_where_to_go(self, funnel, step, expected):
        with_step(funnel, step)
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 8, 5)
        assert problem.path == "steps[1].goto"
        assert expected in problem.message


class TestSendAndWait:
    def test_send_missing_subject(self, funnel):
        with_step(funnel, "  - id: pause\n    send: {template: cold/welcome.html}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 5)
        assert (problem.path, problem.message) == ("steps[1].send", "missing key 'subject'")

    def test_send_unknown_key(self, funnel):
        with_step(funnel, "  - id: pause\n    send: {template: cold/welcome.html, subjet: Hi}\n")
        problems = funnel.problems()
        assert [(at(p), p.message, p.hint) for p in problems] == [
            ((SEQ, 7, 5), "missing key 'subject'", None),
            ((SEQ, 7, 41), "unknown key", "subject"),
        ]

    def test_wait_with_a_bad_duration(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: 2 days\n")
        problem = funnel.only_problem()
        assert problem.format() == (
            f"{SEQ}:7:11: error: steps[1].wait: found '2 days'; "
            "expected a duration such as 30m, 4h, 2d, 1w or 1d12h"
        )

    def test_wait_that_is_a_number(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: 2\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 11)
        assert problem.message.startswith("found 2; expected a duration such as 2d")

    def test_wait_business_days_below_one(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: {business_days: 0}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 27)
        assert problem.path == "steps[1].wait.business_days"

    def test_wait_until_a_bad_time(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: {until: tue 25:00}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 19)
        assert 'expected a time such as "10:00" or a weekday and time' in problem.message

    def test_wait_until_unquoted_time_is_text_not_base_60(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: {until: 10:00}\n")
        assert funnel.problems() == []

    def test_wait_with_two_forms(self, funnel):
        with_step(funnel, "  - id: pause\n    wait: {until: '10:00', business_days: 2}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 11)
        assert "expected exactly one of business_days, until" in problem.message


class TestWaitForGoalExit:
    def test_wait_for_unknown_event_suggests_one(self, funnel):
        with_step(funnel, "  - id: pause\n    wait_for: {event: click, timeout: 3d}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 23)
        assert problem.path == "steps[1].wait_for.event"
        assert "or custom:NAME" in problem.message
        assert problem.hint == "clicked"

    def test_custom_events_are_always_accepted(self, funnel):
        step = "  - id: pause\n    wait_for: {event: 'custom:webinar_attended', timeout: 3d}\n"
        with_step(funnel, step)
        assert funnel.problems() == []

    def test_custom_event_needs_a_name(self, funnel):
        with_step(funnel, "  - id: pause\n    wait_for: {event: 'custom:', timeout: 3d}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 23)
        assert problem.message.startswith("found 'custom:'; expected one of opened, clicked")

    def test_wait_for_missing_timeout(self, funnel):
        with_step(funnel, "  - id: pause\n    wait_for: {event: clicked}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 5)
        assert problem.message == "missing key 'timeout'"

    def test_goal_with_both_event_and_stage(self, funnel):
        with_step(funnel, "  - id: pause\n    goal: {event: replied, stage: warm}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 11)
        assert "expected exactly one of event, stage" in problem.message

    def test_exit_without_a_reason(self, funnel):
        funnel.replace(SEQ, "exit: completed", "exit:")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 10)
        assert problem.message == "found nothing; expected a reason such as completed"


class TestBranchAndConditions:
    def branch(self, funnel, when: str) -> None:
        with_step(
            funnel,
            "  - id: pause\n    branch:\n      cases:\n"
            f"        - when: {when}\n          goto: done\n",
        )

    def test_branch_without_cases(self, funnel):
        with_step(funnel, "  - id: pause\n    branch: {cases: []}\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 21)
        assert problem.message.startswith("found an empty list; expected a list of cases")

    def test_valid_conditions(self, funnel):
        self.branch(
            funnel,
            "{all: [{attribute: country, in: [US, CA]}, {any: [{engaged: clicked, step: welcome},"
            " {not: {attribute: title, exists: true}}]}]}",
        )
        assert funnel.problems() == []

    def test_unknown_condition_key_suggests_one(self, funnel):
        self.branch(funnel, "{attrbute: company_size, gte: 200}")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 18)
        assert problem.path == "steps[1].branch.cases[0].when.attrbute"
        assert problem.hint == "attribute"

    def test_attribute_without_an_operator(self, funnel):
        self.branch(funnel, "{attribute: company_size}")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 18)
        assert problem.message.startswith("found no operator; expected exactly one operator")

    def test_attribute_with_an_unknown_operator(self, funnel):
        self.branch(funnel, "{attribute: company_size, gt_or_eq: 200}")
        problem = funnel.only_problem()  # not also "no operator": the unknown key explains it
        assert at(problem) == (SEQ, 9, 43)
        assert problem.path == "steps[1].branch.cases[0].when.gt_or_eq"
        assert problem.message == "unknown key"

    def test_in_needs_a_list(self, funnel):
        self.branch(funnel, "{attribute: country, in: US}")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 42)
        assert problem.message == "found 'US'; expected a list of values for in, such as [US, CA]"

    def test_engaged_unknown_event(self, funnel):
        self.branch(funnel, "{engaged: open}")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 27)
        assert problem.hint == "opened"

    def test_all_needs_a_list(self, funnel):
        self.branch(funnel, "{all: {attribute: x, eq: 1}}")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 23)
        assert "expected a list of conditions for 'all'" in problem.message

    def test_two_heads(self, funnel):
        self.branch(funnel, "{engaged: opened, not: {engaged: clicked}}")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 35)
        assert problem.message.startswith("found both 'engaged' and 'not'")
