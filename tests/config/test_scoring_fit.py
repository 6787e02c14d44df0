"""scoring.fit: one test per kind of mistake, each at its file, line and column.

The model is written to scoring.yaml (``scoring: {file: scoring.yaml}``), so the line
numbers asserted are those of the text in each test.
"""

from __future__ import annotations

from tests.config.conftest import at


class TestRules:
    def test_unknown_key_suggests_the_right_one(self, scoring):
        problems = scoring(
            """\
            fit:
              rules:
                - {name: senior, when: {attribute: title, eq: VP}, pionts: 25}
            """
        ).problems()
        assert [(at(p), p.message, p.hint) for p in problems] == [
            (("scoring.yaml", 3, 7), "missing key 'points'", None),
            (("scoring.yaml", 3, 56), "unknown key", "points"),
        ]

    def test_fit_points_are_whole_numbers(self, scoring):
        problem = scoring(
            """\
            fit:
              rules:
                - {name: senior, when: {attribute: title, eq: VP}, points: 2.5}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 64)
        assert problem.format() == (
            "scoring.yaml:3:64: error: fit.rules[0].points: found 2.5; "
            "expected a whole number of points such as 20 or -10"
        )

    def test_rule_names_are_unique(self, scoring):
        problem = scoring(
            """\
            fit:
              rules:
                - {name: senior, when: {attribute: title, eq: VP}, points: 25}
                - {name: senior, when: {attribute: title, eq: CTO}, points: 25}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 4, 14)
        assert problem.message == (
            "found rule name 'senior' again (first at line 3); expected each name once in fit.rules"
        )

    def test_rules_must_be_a_list(self, scoring):
        problem = scoring("fit:\n  rules: {senior: 25}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 10)
        assert problem.message == "found a mapping; expected a list of fit rules"

    def test_a_rule_must_be_a_mapping(self, scoring):
        problem = scoring("fit:\n  rules: [senior]\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 11)
        assert problem.message.startswith("found 'senior'; expected a fit rule such as {name:")

    def test_engagement_conditions_are_refused_even_when_nested(self, scoring):
        problems = scoring(
            """\
            fit:
              rules:
                - {name: a, when: {engaged: clicked}, points: 3}
                - {name: b, when: {any: [{attribute: x, eq: 1}, {engaged: opened}]}, points: 3}
            """
        ).problems()
        assert [(at(p), p.path) for p in problems] == [
            (("scoring.yaml", 3, 24), "fit.rules[0].when.engaged"),
            (("scoring.yaml", 4, 54), "fit.rules[1].when.any[1].engaged"),
        ]
        assert problems[0].message == (
            "found an engagement condition; expected conditions on lead and account "
            "attributes (score behaviour under engagement.rules)"
        )

    def test_a_condition_mistake_is_reported_as_in_sequences(self, scoring):
        problem = scoring(
            """\
            fit:
              rules:
                - {name: a, when: {attribute: company_size, gtee: 100}, points: 3}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 49)
        assert (problem.message, problem.hint) == ("unknown key", "gte")


class TestMatches:
    def test_a_regular_expression_that_does_not_compile(self, scoring):
        problem = scoring(
            """\
            fit:
              rules:
                - {name: a, when: {attribute: title, matches: "head|(dir"}, points: 3}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 51)
        assert problem.path == "fit.rules[0].when.matches"
        assert problem.message == (
            "found 'head|(dir', which is not a regular expression (missing ), unterminated "
            'subpattern at position 6); expected one such as "head|director|vp" '
            "(escape special characters with \\)"
        )

    def test_matches_takes_text(self, scoring):
        problem = scoring(
            """\
            fit:
              rules:
                - {name: a, when: {attribute: title, matches: [vp, cto]}, points: 3}
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 51)
        assert problem.message == "found a list; expected a single value to compare with (matches)"

    def test_matches_takes_a_non_empty_pattern(self, scoring):
        problem = scoring(
            """\
            fit:
              rules:
                - {name: a, when: {attribute: title, matches: 42}, points: 3}
            """
        ).only_problem()
        assert (
            problem.message == 'found 42; expected a regular expression such as "head|director|vp"'
        )


class TestGrades:
    def test_thresholds_go_down(self, scoring):
        problem = scoring("fit:\n  grades: {A: 60, B: 60, C: 20}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 22)
        assert problem.format() == (
            "scoring.yaml:2:22: error: fit.grades.B: found 60; expected fewer fit points than "
            "grade A (60): best grade first"
        )

    def test_thresholds_are_whole_numbers(self, scoring):
        problem = scoring("fit:\n  grades: {A: high, B: 40}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 15)
        assert problem.message == (
            "found 'high'; expected a whole number of fit points such as 40 (or rest for the "
            "last grade)"
        )

    def test_word_grades_need_their_lowest_grade_written(self, scoring):
        problem = scoring("fit:\n  grades: {ideal: 60, good: 30}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 11)
        assert problem.message == (
            "found no lowest grade; expected the grade below the last threshold written last "
            "as NAME: rest, such as {ideal: 60, good: 30, poor: rest}"
        )

    def test_only_the_last_grade_may_be_rest(self, scoring):
        problem = scoring("fit:\n  grades: {ideal: 60, poor: rest, good: 30}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 29)
        assert problem.message == (
            "found 'rest'; expected a whole number of fit points (only the last grade may be rest)"
        )

    def test_a_grade_name_ladder_rules_could_not_use(self, scoring):
        problems = scoring("fit:\n  grades: {fit: 60, A+: 30}\n").problems()
        assert [at(p) for p in problems] == [("scoring.yaml", 2, 12), ("scoring.yaml", 2, 21)]
        assert problems[0].message == (
            "found grade name 'fit'; expected a letter or a word such as A or ideal "
            "(letters, digits, - and _, and not a name ladder rules use)"
        )

    def test_grades_must_be_a_mapping(self, scoring):
        problem = scoring("fit:\n  grades: [A, B, C]\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 11)
        assert problem.message.startswith("found a list; expected grades best first")

    def test_unknown_key_in_fit(self, scoring):
        problem = scoring("fit:\n  grade: {A: 60}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 3)
        assert (problem.message, problem.hint) == ("unknown key", "grades")
