from datetime import UTC, datetime

from nurture.core.conditions import AllOf, AttributeIs, Op
from nurture.core.lead import LeadProfile
from nurture.core.scoring import fit_facts, score
from nurture.core.scoring_model import FitRule, Grades, ScoringModel

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)

FIT_RULES = (
    FitRule("senior title", AttributeIs("title", Op.CONTAINS, "head of"), 30),
    FitRule("mid-size company", AttributeIs("account.employees", Op.GTE, 200), 20),
    FitRule("target industry", AttributeIs("account.industry", Op.IN, ["SaaS", "fintech"]), 15),
    FitRule("budget confirmed", AttributeIs("budget", Op.EQ, "yes"), 10),
    FitRule("free mail", AttributeIs("free_mail", Op.EQ, True), -20),
    FitRule("competitor", AttributeIs("email_domain", Op.IN, ["rivalcorp.com"]), -100),
)
MODEL = ScoringModel(fit_rules=FIT_RULES)
ACME = {"employees": 240, "industry": "saas"}


def head_of_product(email="dana@acme.io", **attributes) -> LeadProfile:
    return LeadProfile(email=email, title="Head of Product", company="Acme", attributes=attributes)


class TestFitFacts:
    def test_lead_fields_attributes_and_account_attributes(self):
        facts = fit_facts(head_of_product(budget="yes"), ACME)
        assert facts["title"] == "Head of Product"
        assert facts["budget"] == "yes"
        assert facts["account.employees"] == 240
        assert facts["account.industry"] == "saas"

    def test_email_domain_is_lower_case_and_free_mail_is_known(self):
        assert fit_facts(head_of_product("Dana@ACME.io"), {})["email_domain"] == "acme.io"
        assert fit_facts(head_of_product("Dana@ACME.io"), {})["free_mail"] is False
        assert fit_facts(head_of_product("dana@Gmail.com"), {})["free_mail"] is True


class TestFitPoints:
    def test_points_of_every_rule_that_holds(self):
        card = score(head_of_product(budget="yes"), [], MODEL, NOW, account_attributes=ACME)
        assert card.fit_points == 30 + 20 + 15 + 10
        assert [c.rule for c in card.fit] == [
            "senior title",
            "mid-size company",
            "target industry",
            "budget confirmed",
        ]
        assert all(c.kind == "fit" for c in card.fit)

    def test_free_mail_costs_points(self):
        card = score(head_of_product("dana@gmail.com"), [], MODEL, NOW)
        assert card.fit_points == 30 - 20
        assert card.fit[0].rule == "senior title"
        assert card.fit[1].points == -20

    def test_a_competitor_domain_sinks_the_grade(self):
        card = score(head_of_product("spy@rivalcorp.com"), [], MODEL, NOW, account_attributes=ACME)
        assert card.fit_points == 30 + 20 + 15 - 100
        assert card.fit_grade == "D"
        assert card.fit[0].rule == "competitor"

    def test_no_account_means_no_account_rules(self):
        assert score(head_of_product(), [], MODEL, NOW).fit_points == 30

    def test_fit_is_not_engagement(self):
        card = score(head_of_product(), [], MODEL, NOW, account_attributes=ACME)
        assert card.engagement == 0.0
        assert card.contributions == ()


class TestGrades:
    def test_grade_thresholds_either_side_of_the_cut_off(self):
        card = score(head_of_product(budget="yes"), [], MODEL, NOW)  # 30 + 10: exactly B
        assert (card.fit_points, card.fit_grade) == (40, "B")
        card = score(head_of_product(), [], MODEL, NOW)  # 30: C
        assert (card.fit_points, card.fit_grade) == (30, "C")
        card = score(head_of_product(), [], MODEL, NOW, account_attributes={"employees": 500})
        assert (card.fit_points, card.fit_grade) == (50, "B")
        card = score(head_of_product(budget="yes"), [], MODEL, NOW, account_attributes=ACME)
        assert card.fit_grade == "A"

    def test_below_every_threshold_is_the_lowest_grade(self):
        card = score(LeadProfile(email="x@gmail.com"), [], MODEL, NOW)
        assert (card.fit_points, card.fit_grade) == (-20, "D")

    def test_custom_grades(self):
        model = ScoringModel(
            fit_rules=FIT_RULES, grades=Grades((("ideal", 50), ("good", 25)), lowest="poor")
        )
        assert score(head_of_product(), [], model, NOW).fit_grade == "good"
        assert score(LeadProfile(email="x@acme.io"), [], model, NOW).fit_grade == "poor"

    def test_combined_conditions(self):
        rule = FitRule(
            "decision maker",
            AllOf(
                (AttributeIs("title", Op.CONTAINS, "head"), AttributeIs("authority", Op.EQ, True))
            ),
            25,
        )
        model = ScoringModel(fit_rules=(rule,))
        assert score(head_of_product(authority=True), [], model, NOW).fit_points == 25
        assert score(head_of_product(authority=False), [], model, NOW).fit_points == 0
