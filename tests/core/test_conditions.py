from nurture.core.conditions import AllOf, AnyOf, AttributeIs, Engaged, LeadFacts, Not, Op, evaluate

FACTS = LeadFacts(
    attributes={"company_size": 240, "country": "US", "title": "Head of Product", "plan": None},
    engagement=frozenset({("clicked", "metrics-guide"), ("opened", "welcome")}),
)


class TestAttributeConditions:
    def test_numeric_comparison_holds_either_side_of_the_cut_off(self):
        assert evaluate(AttributeIs("company_size", Op.GTE, 240), FACTS)
        assert not evaluate(AttributeIs("company_size", Op.GTE, 241), FACTS)
        assert evaluate(AttributeIs("company_size", Op.LT, 241), FACTS)

    def test_text_equality_ignores_case(self):
        assert evaluate(AttributeIs("country", Op.EQ, "us"), FACTS)
        assert evaluate(AttributeIs("country", Op.IN, ["ca", "US"]), FACTS)
        assert not evaluate(AttributeIs("country", Op.NOT_IN, ["us"]), FACTS)

    def test_contains_matches_part_of_a_title(self):
        assert evaluate(AttributeIs("title", Op.CONTAINS, "product"), FACTS)

    def test_matches_searches_a_regex_ignoring_case(self):
        assert evaluate(AttributeIs("title", Op.MATCHES, "head|director|vp"), FACTS)
        assert evaluate(AttributeIs("title", Op.MATCHES, r"^HEAD\b"), FACTS)
        assert not evaluate(AttributeIs("title", Op.MATCHES, "^product"), FACTS)

    def test_matches_keeps_escapes_that_case_folding_would_change(self):
        facts = LeadFacts(attributes={"code": "AB"})
        assert evaluate(AttributeIs("code", Op.MATCHES, r"^\D+$"), facts)  # \d+ would not match
        assert not evaluate(AttributeIs("code", Op.MATCHES, r"^\W"), facts)

    def test_matches_on_a_number_reads_it_as_text(self):
        assert evaluate(AttributeIs("company_size", Op.MATCHES, "^2"), FACTS)

    def test_matches_never_holds_for_a_missing_attribute(self):
        assert not evaluate(AttributeIs("industry", Op.MATCHES, ".*"), FACTS)

    def test_missing_attribute_only_matches_negative_operators(self):
        assert not evaluate(AttributeIs("industry", Op.EQ, "retail"), FACTS)
        assert evaluate(AttributeIs("industry", Op.NE, "retail"), FACTS)
        assert not evaluate(AttributeIs("plan", Op.EXISTS), FACTS)
        assert evaluate(AttributeIs("plan", Op.EXISTS, False), FACTS)

    def test_number_compared_with_text_never_matches(self):
        assert not evaluate(AttributeIs("company_size", Op.GT, "large"), FACTS)


class TestEngagementConditions:
    def test_engagement_on_a_given_step(self):
        assert evaluate(Engaged("clicked", "metrics-guide"), FACTS)
        assert not evaluate(Engaged("clicked", "welcome"), FACTS)

    def test_engagement_anywhere(self):
        assert evaluate(Engaged("opened"), FACTS)
        assert not evaluate(Engaged("replied"), FACTS)


def test_combinators():
    big = AttributeIs("company_size", Op.GTE, 200)
    clicked = Engaged("clicked", "metrics-guide")
    replied = Engaged("replied")
    assert evaluate(AllOf((big, clicked)), FACTS)
    assert not evaluate(AllOf((big, replied)), FACTS)
    assert evaluate(AnyOf((replied, clicked)), FACTS)
    assert evaluate(Not(replied), FACTS)
