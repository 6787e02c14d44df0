"""Sequence files: keys, step ids and the references between steps, the step graph, stages,
and what spans files (duplicate sequence ids). Each test writes the whole file it breaks."""

from __future__ import annotations

from tests.config.conftest import at

SEQ = "sequences/cold-basic.yaml"


class TestFileKeys:
    def test_unknown_key_suggests_the_right_one(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            descripton: a typo
            steps:
              - id: done
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 3, 1)
        assert problem.format().endswith("descripton: unknown key (did you mean 'description'?)")

    def test_missing_id(self, funnel):
        funnel.sequence("stages: [cold]\nsteps:\n  - {id: done, exit: completed}\n")
        problems = funnel.problems()
        assert [(at(p), p.message) for p in problems] == [((SEQ, 1, 1), "missing key 'id'")]

    def test_empty_steps_list(self, funnel):
        funnel.sequence("id: cold-basic\nstages: [cold]\nsteps: []\n")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 3, 8)
        assert problem.message.startswith("found an empty list; expected a list of steps")


class TestStepIds:
    def test_duplicate_step_id(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: welcome
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 6, 9)
        assert problem.path == "steps[1].id"
        assert problem.message == (
            "found step id 'welcome' again (first at line 4); expected each step id once"
        )

    def test_goto_unknown_step_suggests_a_step_id(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
                goto: finish
              - id: finished
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 6, 11)
        assert problem.format() == (
            f"{SEQ}:6:11: error: steps[0].goto: found 'finish'; "
            "expected the id of a step in this sequence (did you mean 'finished'?)"
        )

    def test_on_event_on_timeout_and_otherwise_unknown(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: clicked
                wait_for: {event: clicked, timeout: 3d, on_event: nope, on_timeout: nada}
              - id: route
                branch:
                  cases:
                    - {when: {engaged: clicked}, goto: done}
                  otherwise: dnoe
              - id: done
                exit: completed
            """
        )
        problems = funnel.problems()
        assert [(at(p), p.path) for p in problems] == [
            ((SEQ, 7, 55), "steps[1].wait_for.on_event"),
            ((SEQ, 7, 73), "steps[1].wait_for.on_timeout"),
            ((SEQ, 12, 18), "steps[2].branch.otherwise"),
        ]
        assert problems[2].hint == "done"

    def test_wait_for_step_must_be_a_send(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: pause
                wait: 1d
              - id: clicked
                wait_for: {event: clicked, step: pause, timeout: 3d}
              - id: done
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 38)
        assert problem.message == (
            "found 'pause', a wait step; expected a send step "
            "(engagement is tracked per email sent)"
        )

    def test_engaged_step_must_be_a_send(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: route
                branch:
                  cases:
                    - when: {engaged: opened, step: route}
                      goto: done
              - id: done
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 41)
        assert problem.path == "steps[1].branch.cases[0].when.step"
        assert problem.message.startswith("found 'route', a branch step; expected a send step")

    def test_engaged_step_unknown_suggests_a_step_id(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: route
                branch:
                  cases:
                    - when: {engaged: opened, step: welcom}
                      goto: done
              - id: done
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 9, 41)
        assert problem.hint == "welcome"


class TestFlow:
    def test_unreachable_step(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: done
                exit: completed
              - id: forgotten
                wait: 1d
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 8, 9)
        assert problem.path == "steps[2].id"
        assert problem.message.startswith("found step 'forgotten' that no path reaches")

    def test_loop_without_a_wait_shows_the_cycle(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: again
                branch:
                  cases:
                    - {when: {attribute: country, eq: US}, goto: welcome}
              - id: done
                exit: completed
            """
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 4, 9)
        assert "found a loop with no wait: welcome -> again -> welcome" in problem.message
        assert "expected a wait or wait_for step on it" in problem.message

    def test_loop_with_a_wait_is_fine(self, funnel):
        funnel.sequence(
            """\
            id: cold-basic
            stages: [cold]
            steps:
              - id: welcome
                send: {template: cold/welcome.html, subject: Hi}
              - id: pause
                wait: 1w
              - id: again
                branch:
                  cases:
                    - {when: {attribute: country, eq: US}, goto: welcome}
              - id: done
                exit: completed
            """
        )
        assert funnel.problems() == []


class TestStages:
    def test_sequence_serving_an_unknown_stage(self, funnel):
        funnel.replace(SEQ, "stages: [cold]", "stages: [cold, wram]")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 2, 16)
        assert problem.path == "stages[1]"
        assert problem.message.startswith("found 'wram'; expected a stage: cold, warm, mql")
        assert problem.hint == "warm"

    def test_goal_stage_unknown(self, funnel):
        funnel.replace(
            SEQ, "  - id: pause\n", "  - id: goal\n    goal: {stage: sqll}\n  - id: pause\n"
        )
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 7, 19)
        assert problem.path == "steps[1].goal.stage"
        assert problem.hint == "sql"


class TestAcrossFiles:
    def test_two_files_with_the_same_id(self, funnel):
        funnel.write("sequences/zz-copy.yaml", (funnel.path / SEQ).read_text())
        problem = funnel.only_problem()
        assert at(problem) == ("sequences/zz-copy.yaml", 1, 5)
        assert problem.message == (
            f"found 'cold-basic'; expected a sequence id of its own (also used in {SEQ}:1:5)"
        )

    def test_yml_files_are_not_silently_ignored(self, funnel):
        funnel.write("sequences/extra.yml", "id: extra\n")
        problem = funnel.only_problem()
        assert at(problem) == ("sequences/extra.yml", 1, 1)
        assert "expected sequence files to end in .yaml" in problem.message

    def test_a_broken_file_does_not_make_its_id_look_unknown(self, funnel):
        funnel.replace(SEQ, "stages: [cold]", "stages: [cold")
        problem = funnel.only_problem()  # the syntax error only, not "unknown cold-basic"
        assert at(problem) == (SEQ, 3, 6)
        assert problem.message.startswith("invalid YAML")

    def test_problems_in_every_file_are_reported_together(self, funnel):
        funnel.replace("nurture.yaml", "per: 7d", "per: weekly")
        funnel.replace(SEQ, "wait: 2d", "wait: 2 days")
        problems = funnel.problems()
        assert [at(p) for p in problems] == [("nurture.yaml", 17, 8), (SEQ, 7, 11)]
