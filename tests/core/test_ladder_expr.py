import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurture.core.ladder_expr import (
    And,
    Compare,
    ExpressionError,
    Name,
    Not,
    Or,
    evaluate,
    names_in,
    parse,
    render,
    shortfall,
)

GRADES = ("A", "B", "C", "D")
MQL = "fit in [A, B] and engagement >= 50"
SQL = "hand_raiser or (fit == A and engagement >= 80)"


def error_for(text: str, **kwargs) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse(text, **kwargs)
    return caught.value


class TestParse:
    def test_the_mql_rule_from_the_example_funnel(self):
        assert parse(MQL) == And(
            (Compare("fit", "in", ("A", "B")), Compare("engagement", ">=", 50))
        )

    def test_and_binds_tighter_than_or_and_parentheses_group(self):
        assert parse(SQL) == Or(
            (
                Name("hand_raiser"),
                And((Compare("fit", "==", "A"), Compare("engagement", ">=", 80))),
            )
        )
        assert parse("hand_raiser or fit == A and engagement >= 80") == parse(SQL)

    def test_not_quoted_grades_decimals_and_negative_numbers(self):
        assert parse('not fit == "B"') == Not(Compare("fit", "==", "B"))
        assert parse("engagement >= 12.5") == Compare("engagement", ">=", 12.5)
        assert parse("engagement > -5") == Compare("engagement", ">", -5)
        assert parse("hand_raiser == false") == Compare("hand_raiser", "==", False)

    def test_grades_are_spelt_as_the_model_spells_them(self):
        assert parse("fit in [a, b]", grades=GRADES) == Compare("fit", "in", ("A", "B"))

    def test_whitespace_does_not_matter(self):
        assert parse("engagement>=20") == parse("  engagement >= 20 ")

    def test_names_in_lists_the_names_read_in_order(self):
        assert names_in(parse(SQL)) == ("hand_raiser", "fit", "engagement")


class TestParseErrors:
    def test_misspelt_name_suggests_the_right_one(self):
        error = error_for("fit == A and engagment >= 50")
        assert error.message == "unknown name 'engagment' (did you mean 'engagement'?)"
        assert error.column == 14

    def test_unknown_name_lists_the_names(self):
        assert "use one of fit, fit_points, engagement, hand_raiser" in str(error_for("score > 5"))

    def test_number_expected_after_a_comparison(self):
        error = error_for("engagement >= lots")
        assert error.message.startswith("expected a number after '>=', such as 50")
        assert "'lots'" in error.message
        assert error.column == 15

    def test_missing_number_at_the_end(self):
        error = error_for("engagement >=")
        assert "found the end of the expression" in error.message
        assert error.column == 14

    def test_fit_is_a_grade_without_order(self):
        assert "write fit in [A, B]" in error_for("fit >= B").message
        assert "compare fit_points with numbers" in error_for("fit == 60").message

    def test_unknown_grade_lists_the_model_grades(self):
        error = error_for("fit in [A, E]", grades=GRADES)
        assert error.message == "unknown grade 'E'; the grades are A, B, C, D"
        assert error.column == 12

    def test_a_bare_score_needs_a_comparison(self):
        assert "such as engagement >= 50" in error_for("engagement").message
        assert "such as fit in [A, B]" in error_for("fit or hand_raiser").message

    def test_habits_from_other_languages_are_corrected(self):
        assert error_for("hand_raiser && fit == A").message == "unexpected '&&'; write 'and'"
        assert error_for("engagement = 20").message == "unexpected '='; write '=='"
        assert error_for("engagement => 20").message == "unexpected '=>'; write '>='"

    def test_unbalanced_parentheses(self):
        error = error_for("hand_raiser or (fit == A")
        assert error.message.startswith("expected ')' to close the '(' at column 16")
        assert "no matching '('" in error_for("engagement >= 5)").message

    def test_two_conditions_without_a_conjunction(self):
        error = error_for("fit == A engagement >= 50")
        assert "write 'and' or 'or' between conditions" in error.message
        assert error.column == 10

    def test_list_errors(self):
        assert "expected '[' after 'in'" in error_for("fit in A").message
        assert "expected ',' or ']'" in error_for("fit in [A B]").message
        assert "compares grades" in error_for("engagement in [10, 20]").message

    def test_empty_and_unterminated(self):
        assert error_for("").message.startswith("empty expression")
        assert error_for('fit == "A').message.startswith("unterminated quoted text")

    def test_expression_error_is_a_value_error(self):
        assert isinstance(error_for("?"), ValueError)


class TestEvaluate:
    def test_mql_needs_both_fit_and_engagement(self):
        mql = parse(MQL)
        assert evaluate(mql, {"fit": "B", "engagement": 50.0})
        assert not evaluate(mql, {"fit": "B", "engagement": 49.9})
        assert not evaluate(mql, {"fit": "C", "engagement": 90.0})

    def test_a_hand_raiser_is_sql_whatever_the_score(self):
        sql = parse(SQL)
        assert evaluate(sql, {"fit": "D", "engagement": 0.0, "hand_raiser": True})
        assert not evaluate(sql, {"fit": "D", "engagement": 0.0, "hand_raiser": False})

    def test_grade_comparison_ignores_case_and_missing_values_never_match(self):
        assert evaluate(parse("fit == a"), {"fit": "A"})
        assert not evaluate(parse("engagement >= 0"), {})
        assert evaluate(parse("fit != A"), {})


class TestRender:
    def test_canonical_spacing_and_minimal_parentheses(self):
        assert render(parse("fit in[A,B]and(engagement>=50)")) == MQL
        assert render(parse("(hand_raiser or fit == A) and not (engagement < 10)")) == (
            "(hand_raiser or fit == A) and not engagement < 10"
        )
        assert render(parse("not (fit == A and engagement >= 1)")) == (
            "not (fit == A and engagement >= 1)"
        )

    def test_odd_grade_words_are_quoted(self):
        assert render(Compare("fit", "==", "A+")) == 'fit == "A+"'
        assert render(Compare("fit", "in", ("and", "B"))) == 'fit in ["and", B]'


_leaf = st.one_of(
    st.just(Name("hand_raiser")),
    st.builds(
        Compare,
        st.sampled_from(["engagement", "fit_points"]),
        st.sampled_from(["==", "!=", ">=", "<=", ">", "<"]),
        st.integers(-100, 100) | st.floats(-100, 100, allow_nan=False).map(lambda f: round(f, 2)),
    ),
    st.builds(Compare, st.just("fit"), st.sampled_from(["==", "!="]), st.sampled_from(GRADES)),
    st.builds(
        Compare,
        st.just("fit"),
        st.just("in"),
        st.lists(st.sampled_from(GRADES), min_size=1, max_size=3).map(tuple),
    ),
)
_expr = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda ps: And(tuple(ps))),
        st.lists(inner, min_size=2, max_size=3).map(lambda ps: Or(tuple(ps))),
        inner.map(Not),
    ),
    max_leaves=8,
)
_values = st.fixed_dictionaries(
    {
        "fit": st.sampled_from(GRADES),
        "fit_points": st.integers(-20, 120),
        "engagement": st.floats(-20, 120, allow_nan=False).map(lambda f: round(f, 1)),
        "hand_raiser": st.booleans(),
    }
)


@given(_expr)
def test_render_then_parse_gives_the_same_text(expr):
    # nested and-in-and flattens once rendered, so compare text, not tree shape
    again = parse(render(expr))
    assert render(again) == render(expr)


@given(_expr, _values)
def test_render_then_parse_keeps_the_meaning(expr, values):
    assert evaluate(parse(render(expr)), values) == evaluate(expr, values)


@given(_expr, _values)
def test_shortfall_is_empty_exactly_when_the_expression_holds(expr, values):
    missing = shortfall(expr, values)
    assert (missing == []) == evaluate(expr, values)
    assert all(alternative for alternative in missing)


class TestShortfall:
    def test_engagement_points_missing_for_mql(self):
        assert shortfall(parse(MQL), {"fit": "A", "engagement": 38.0}) == [
            ["12 more engagement points"]
        ]

    def test_fit_and_engagement_both_missing(self):
        assert shortfall(parse(MQL), {"fit": "C", "engagement": 38.0}) == [
            ["fit grade A or B (now C)", "12 more engagement points"]
        ]

    def test_or_gives_alternatives_with_a_named_hand_raiser(self):
        expr = parse("engagement >= 50 or hand_raiser")
        values = {"fit": "C", "engagement": 38.0, "hand_raiser": False}
        assert shortfall(expr, values, hand_raiser="a hand-raiser (demo-request)") == [
            ["12 more engagement points"],
            ["a hand-raiser (demo-request)"],
        ]

    def test_alternatives_asking_for_more_than_another_are_dropped(self):
        expr = parse("(engagement >= 50 or fit == A) and engagement >= 60")
        assert shortfall(expr, {"fit": "C", "engagement": 38.0}) == [["22 more engagement points"]]

    def test_falling_back_is_phrased_as_fewer_points(self):
        expr = parse("engagement < 10")
        assert shortfall(expr, {"engagement": 14.0}) == [["4.1 fewer engagement points"]]
        assert shortfall(parse("not engagement >= 10"), {"engagement": 14.0}) == [
            ["4.1 fewer engagement points"]
        ]

    def test_one_point_is_singular_and_fit_points_are_whole(self):
        assert shortfall(parse("fit_points > 40"), {"fit_points": 40}) == [["1 more fit point"]]
