"""scoring.ladder, fall_back and promote_from: stage names, ladder order, the MQL/SQL rule,
and expression mistakes at their own column (in scoring.yaml and inline in nurture.yaml,
where ``scoring`` is on line 23 of conftest.py's PIPELINE)."""

from __future__ import annotations

from nurture.config import validate_funnel
from tests.config.conftest import at


class TestLadderStages:
    def test_a_misspelt_stage(self, scoring):
        problem = scoring("ladder:\n  wram: engagement >= 20\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 3)
        assert problem.format() == (
            "scoring.yaml:2:3: error: ladder.wram: found stage 'wram'; expected a ladder stage: "
            "warm, mql, sql, customer (did you mean 'warm'?)"
        )

    def test_not_the_initial_stage(self, scoring):
        problem = scoring("ladder:\n  cold: engagement >= 0\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 3)
        assert problem.message == (
            "found cold, where every lead starts; expected a stage above it: "
            "warm, mql, sql, customer"
        )

    def test_not_a_side_stage(self, scoring):
        problem = scoring("ladder:\n  recycled: engagement >= 5\n").only_problem()
        assert problem.message == (
            "found side stage recycled; expected a ladder stage: warm, mql, sql, customer"
        )

    def test_in_ladder_order(self, scoring):
        problem = scoring(
            """\
            ladder:
              mql: fit in [A, B] and engagement >= 50
              warm: engagement >= 20
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 3, 3)
        assert problem.message == (
            "found warm after mql; expected the stages in ladder order: warm, mql"
        )

    def test_ladder_must_be_a_mapping(self, scoring):
        problem = scoring("ladder: [warm, mql]\n").only_problem()
        assert at(problem) == ("scoring.yaml", 1, 9)
        assert problem.message == (
            "found a list; expected a mapping of stage -> expression, such as "
            '{warm: "engagement >= 20"}'
        )


class TestExpressions:
    def test_a_mistake_in_a_plain_expression_is_at_its_column(self, scoring):
        problem = scoring("ladder:\n  mql: fit in [A, B] and engagment >= 50\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 26)
        assert problem.format() == (
            "scoring.yaml:2:26: error: ladder.mql: unknown name 'engagment' "
            "(did you mean 'engagement'?)"
        )

    def test_a_mistake_in_a_quoted_expression_is_at_its_column(self, scoring):
        problem = scoring('ladder:\n  warm: "engagement >= x"\n').only_problem()
        assert at(problem) == ("scoring.yaml", 2, 24)
        assert problem.message == "expected a number after '>=', such as 50; found 'x'"

    def test_an_expression_over_several_lines_is_reported_where_it_starts(self, scoring):
        problem = scoring("ladder:\n  sql: >-\n    hand_raiser or\n    (fit == E)\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 8)
        assert problem.message == "unknown grade 'E'; the grades are A, B, C, D"

    def test_grades_are_the_model_s_own(self, scoring):
        problem = scoring(
            """\
            fit:
              grades: {ideal: 60, good: 30, poor: rest}
            ladder:
              mql: fit == A
            """
        ).only_problem()
        assert at(problem) == ("scoring.yaml", 4, 15)
        assert problem.message == "unknown grade 'A'; the grades are ideal, good, poor"

    def test_an_expression_is_text(self, scoring):
        problem = scoring("ladder:\n  warm: 20\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 9)
        assert problem.message == (
            'found 20; expected an expression such as "engagement >= 20" or '
            '"fit in [A, B] and engagement >= 50"'
        )

    def test_inline_in_nurture_yaml_the_column_is_nurture_yaml_s(self, funnel):
        funnel.replace(
            "nurture.yaml",
            "scoring: {}",
            'scoring:\n  ladder:\n    warm: engagement >= x\n    mql: "fit = A"',
        )
        problems = funnel.problems()
        assert [(at(p), p.path, p.message) for p in problems] == [
            (
                ("nurture.yaml", 25, 25),
                "scoring.ladder.warm",
                "expected a number after '>=', such as 50; found 'x'",
            ),
            (("nurture.yaml", 26, 15), "scoring.ladder.mql", "unexpected '='; write '=='"),
        ]


class TestFallBack:
    def test_never_from_mql_up(self, scoring):
        problem = scoring('fall_back:\n  mql: {to: warm, when: "engagement < 10"}\n').only_problem()
        assert at(problem) == ("scoring.yaml", 2, 3)
        assert problem.format() == (
            "scoring.yaml:2:3: error: fall_back.mql: found a fall-back from mql; expected none "
            "from mql up: MQL and SQL never fall back by score; sales feedback moves them"
        )

    def test_never_from_a_stage_above_the_first_sales_stage(self, funnel):
        funnel.replace("nurture.yaml", "[cold, warm, mql, sql, customer]", "[cold, warm, sql, hot]")
        funnel.replace(
            "nurture.yaml",
            "scoring: {}",
            'scoring: {fall_back: {hot: {to: warm, when: "fit == D"}}}',
        )
        problem = funnel.only_problem()
        assert problem.message.startswith("found a fall-back from hot; expected none from sql up")

    def test_to_is_lower_on_the_ladder(self, scoring):
        problem = scoring('fall_back:\n  warm: {to: mql, when: "engagement < 10"}\n').only_problem()
        assert at(problem) == ("scoring.yaml", 2, 14)
        assert problem.message == "found 'mql'; expected a stage below warm on the ladder: cold"

    def test_nothing_is_below_the_lowest_stage(self, scoring):
        problem = scoring('fall_back:\n  cold: {to: cold, when: "engagement < 1"}\n').only_problem()
        assert problem.message == (
            "found 'cold'; expected a stage below cold, but cold is the lowest (remove it)"
        )

    def test_when_is_an_expression(self, scoring):
        problem = scoring('fall_back:\n  warm: {to: cold, when: "engagement <"}\n').only_problem()
        assert at(problem) == ("scoring.yaml", 2, 39)
        assert problem.path == "fall_back.warm.when"

    def test_both_keys_are_needed(self, scoring):
        problem = scoring("fall_back:\n  warm: {to: cold}\n").only_problem()
        assert at(problem) == ("scoring.yaml", 2, 3)
        assert problem.message == "missing key 'when'"


class TestPromoteFrom:
    def test_only_side_stages(self, scoring):
        problem = scoring("promote_from: [recycled, warm]\n").only_problem()
        assert at(problem) == ("scoring.yaml", 1, 26)
        assert problem.message == "found 'warm'; expected a side stage: recycled, disqualified"

    def test_a_list(self, scoring):
        problem = scoring("promote_from: recycled\n").only_problem()
        assert problem.message == "found 'recycled'; expected a list of side stages"


def model(funnel):
    loaded, problems = validate_funnel(funnel.path)
    assert loaded is not None, problems
    return loaded.scoring


class TestRecycledEngagement:
    def test_fresh_by_default_and_keep_when_asked(self, scoring):
        assert model(scoring("ladder:\n  warm: engagement >= 20\n")).fresh_in_side_stages
        assert model(scoring("recycled_engagement: keep\n")).fresh_in_side_stages is False

    def test_another_word_is_refused_with_the_choices(self, scoring):
        problem = scoring("recycled_engagement: reset\n").only_problem()
        assert at(problem) == ("scoring.yaml", 1, 22)
        assert "fresh or keep" in problem.message
