"""scoring.engagement, account and hand_raisers: one test per kind of mistake, each at its
file, line and column (the model is written to scoring.yaml; the sequence cold-basic of
conftest.py has the send step ``welcome`` and the wait step ``pause``)."""

from __future__ import annotations

from tests.config.conftest import at

EVENT_HINT = (
    "an event: opened, clicked, replied, unsubscribed, bounced, complained (email), page_view, "
    "form_submit, download, webinar_attended, trial_started, demo_requested, pricing_viewed "
    "(website and product), or custom:NAME for a custom event (NAME in lower-case letters, "
    "digits and _, e.g. custom:webinar_registered)"
)


def rule(text: str) -> str:
    """One engagement rule (``{...}``) as a whole model: the rule is on line 3."""
    return f"engagement:\n  rules:\n    - {text}\n"


class TestEvents:
    def test_a_misspelt_event(self, scoring):
        problem = scoring(rule("{name: r, event: page_veiw, points: 1}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 24)
        assert problem.message == f"found 'page_veiw'; expected {EVENT_HINT}"
        assert problem.hint == "page_view"

    def test_a_plain_custom_name_is_told_to_say_custom(self, scoring):
        problem = scoring(rule("{name: r, event: webinar_registered, points: 1}")).only_problem()
        assert problem.hint == "custom:webinar_registered"

    def test_step_only_with_an_email_event(self, scoring):
        problem = scoring(
            rule("{name: r, event: page_view, step: welcome, points: 1}")
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 35)
        assert problem.message == (
            "found a step for 'page_view'; expected step only with an email event (delivered, "
            "deferred, bounced, dropped, opened, clicked, complained, unsubscribed, replied): "
            "other events belong to no email"
        )

    def test_step_names_a_send_step_of_some_sequence(self, scoring):
        problem = scoring(rule("{name: r, event: clicked, step: welcom, points: 1}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 39)
        assert problem.path == "engagement.rules[0].step"
        assert problem.message == (
            "found 'welcom'; expected the id of a send step in sequences/*.yaml"
        )
        assert problem.hint == "welcome"

    def test_step_may_not_name_a_wait(self, scoring):
        problem = scoring(rule("{name: r, event: clicked, step: pause, points: 1}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 39)
        assert problem.message == (
            "found 'pause', a wait step of cold-basic; expected a send step "
            "(engagement is tracked per email sent)"
        )

    def test_data_is_a_mapping_of_single_values(self, scoring):
        problems = scoring(
            """\
            hand_raisers:
              - {name: a, event: form_submit, data: [contact-sales], stage: sql}
              - {name: b, event: form_submit, data: {form: [x]}, stage: sql}
            """
        ).problems()
        assert [(at(p), p.message) for p in problems] == [
            (
                ("scoring.yaml", 2, 41),
                "found a list; expected a mapping of event data values to match, such as "
                "{form: contact-sales}",
            ),
            (
                ("scoring.yaml", 3, 48),
                "found a list; expected a single value (text, number, true or false) to match",
            ),
        ]


class TestRules:
    def test_points_are_numbers(self, scoring):
        problem = scoring(rule("{name: r, event: opened, points: lots}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 40)
        assert problem.message == "found 'lots'; expected points such as 5"

    def test_missing_event(self, scoring):
        problem = scoring(rule("{name: r, points: 1}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 7)
        assert problem.message == "missing key 'event'"

    def test_unknown_key_suggests_the_right_one(self, scoring):
        problem = scoring(rule("{name: r, event: opened, points: 1, decay: false}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 43)
        assert (problem.message, problem.hint) == ("unknown key", "decays")

    def test_decays_is_true_or_false(self, scoring):
        problem = scoring(rule("{name: r, event: opened, points: 1, decays: no}")).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 51)
        assert (
            problem.message == "found 'no'; expected true or false (false: these points never fade)"
        )

    def test_cap_points_above_zero(self, scoring):
        problem = scoring(
            rule("{name: r, event: opened, points: 1, cap: {points: 0, per: 7d}}")
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 57)
        assert problem.message == (
            "found 0; expected more than 0 points (the most this rule gives per period)"
        )

    def test_cap_period_is_a_duration(self, scoring):
        problem = scoring(
            rule("{name: r, event: opened, points: 1, cap: {points: 5, per: a week}}")
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 65)
        assert problem.message == (
            "found 'a week'; expected a duration such as 30m, 4h, 2d, 1w or 1d12h"
        )

    def test_names_are_unique_across_rules_and_patterns(self, scoring):
        problem = scoring(
            """\
            engagement:
              rules:
                - {name: visits, event: page_view, points: 1}
              patterns:
                - {name: visits, kind: sessions, count: 3, within: 3d, points: 10}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 5, 14)
        assert problem.message == (
            "found rule name 'visits' again (first at line 3); expected each name once in "
            "engagement (rules and patterns together)"
        )


class TestDecay:
    def test_half_life_is_a_duration(self, scoring):
        problem = scoring("engagement:\n  half_life: a month\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 14)
        assert problem.path == "engagement.half_life"

    def test_floor_is_not_negative(self, scoring):
        problem = scoring("engagement:\n  floor: -1\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 10)
        assert (
            problem.message
            == "found -1; expected points of at least 0 (what a once-active lead keeps)"
        )


class TestPatterns:
    def test_unknown_kind(self, scoring):
        problem = scoring(
            "engagement:\n  patterns:\n    - {name: p, kind: comebak, quiet_for: 9d, points: 2}\n"
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 23)
        assert problem.message == (
            "found 'comebak'; expected a pattern kind: repeat_visits, sessions, comeback"
        )
        assert problem.hint == "comeback"

    def test_a_key_of_another_kind(self, scoring):
        problem = scoring(
            "engagement:\n  patterns:\n"
            "    - {name: p, kind: sessions, count: 3, within: 3d, quiet_for: 9d, points: 2}\n"
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 55)
        assert problem.message == (
            "found quiet_for on a sessions pattern; expected it only on comeback patterns"
        )

    def test_missing_key_of_the_kind(self, scoring):
        problem = scoring(
            "engagement:\n  patterns:\n    - {name: p, kind: repeat_visits, count: 3, points: 2}\n"
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 7)
        assert problem.message == "missing key 'within'"

    def test_count_at_least_two(self, scoring):
        problem = scoring(
            "engagement:\n  patterns:\n"
            "    - {name: p, kind: sessions, count: 1, within: 3d, points: 2}\n"
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 40)
        assert problem.message == "found 1; expected a count of at least 2"

    def test_a_filter_needs_its_event(self, scoring):
        problem = scoring(
            "engagement:\n  patterns:\n"
            '    - {name: p, kind: comeback, quiet_for: 9d, points: 2, url: "*/pricing"}\n'
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 7)
        assert problem.message == "missing key 'event' (url, step and data narrow an event)"


class TestAccount:
    def test_every_key_is_needed_and_checked(self, scoring):
        problems = scoring("account: {min_contacts: 1, window: 14d}\n").problems()
        assert [(at(p), p.message) for p in problems] == [
            (("scoring.yaml", 1, 1), "missing key 'points'"),
            (("scoring.yaml", 1, 25), "found 1; expected a number of contacts, at least 2"),
        ]


class TestHandRaisers:
    def test_stage_above_the_initial_stage(self, scoring):
        problem = scoring(
            "hand_raisers:\n  - {name: demo, event: demo_requested, stage: cold}\n"
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 2, 48)
        assert problem.message == (
            "found 'cold'; expected a ladder stage above cold: warm, mql, sql, customer"
        )

    def test_a_side_stage_is_no_hand_raiser_stage(self, scoring):
        problem = scoring(
            "hand_raisers:\n  - {name: demo, event: demo_requested, stage: recycled}\n"
        ).only_problem()
        assert problem.message.startswith("found 'recycled'; expected a ladder stage above cold")

    def test_misspelt_stage(self, scoring):
        problem = scoring(
            "hand_raisers:\n  - {name: demo, event: demo_requested, stage: sqll}\n"
        ).only_problem()
        assert problem.hint == "sql"

    def test_names_are_unique(self, scoring):
        problem = scoring(
            """\
            hand_raisers:
              - {name: demo, event: demo_requested, stage: sql}
              - {name: demo, event: form_submit, stage: sql}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 12)
        assert problem.message == (
            "found rule name 'demo' again (first at line 2); expected each name once in "
            "hand_raisers"
        )

    def test_must_be_a_list(self, scoring):
        problem = scoring("hand_raisers: {demo: sql}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 1, 15)
        assert problem.message == "found a mapping; expected a list of hand-raisers"
