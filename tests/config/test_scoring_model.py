"""The scoring section read into a ScoringModel: a whole good model, defaults, event names as
stored, the model in its own file, and ``load_scoring_model`` for candidate models."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from nurture.config import funnel_version, load_funnel
from nurture.config.pipeline import Stages
from nurture.config.scoring import load_scoring_model
from nurture.core.conditions import AttributeIs, Op
from nurture.core.ladder_expr import And, Compare, Name, Or
from nurture.core.scoring_model import (
    AccountSignal,
    Cap,
    Decay,
    EngagementRule,
    EventFilter,
    FallBack,
    FitRule,
    Grades,
    HandRaiser,
    LadderRule,
    Pattern,
    PatternKind,
    ScoringModel,
)
from nurture.errors import ConfigInvalid

REPO = Path(__file__).resolve().parents[2]

MODEL = """\
fit:
  grades: {A: 60, B: 40, C: 20}
  rules:
    - name: senior-title
      when: {attribute: title, matches: "head|director|vp|chief"}
      points: 25
    - name: mid-size-company
      when: {attribute: account.company_size, gte: 100}
      points: 20
    - name: free-mail
      when: {attribute: free_mail, eq: true}
      points: -20
engagement:
  half_life: 30d
  floor: 2
  rules:
    - {name: opened-email, event: opened, points: 1, cap: {points: 5, per: 7d}}
    - {name: clicked-welcome, event: clicked, step: welcome, points: 10}
    - {name: pricing-page, event: page_view, url: "*/pricing*", points: 10}
    - {name: unsubscribed, event: unsubscribed, points: -30, decays: false}
  patterns:
    - {name: repeat-visits, kind: repeat_visits, count: 3, within: 7d, points: 10, event: page_view}
    - {name: busy-week, kind: sessions, count: 3, within: 3d, points: 10}
    - {name: came-back, kind: comeback, quiet_for: 60d, points: 15}
account:
  min_contacts: 2
  window: 14d
  points: 10
hand_raisers:
  - {name: demo-request, event: demo_requested, stage: sql}
  - {name: contact-sales, event: form_submit, data: {form: contact-sales}, stage: sql}
ladder:
  warm: "engagement >= 20"
  mql: "fit in [A, B] and engagement >= 50"
  sql: "hand_raiser or (fit == A and engagement >= 80)"
fall_back:
  warm: {to: cold, when: "engagement < 10"}
promote_from: [recycled, disqualified]
"""

PAGE_VIEW = EventFilter("visited")
EXPECTED = ScoringModel(
    fit_rules=(
        FitRule("senior-title", AttributeIs("title", Op.MATCHES, "head|director|vp|chief"), 25),
        FitRule("mid-size-company", AttributeIs("account.company_size", Op.GTE, 100), 20),
        FitRule("free-mail", AttributeIs("free_mail", Op.EQ, True), -20),
    ),
    grades=Grades((("A", 60), ("B", 40), ("C", 20)), "D"),
    engagement_rules=(
        EngagementRule("opened-email", EventFilter("opened"), 1, Cap(5, timedelta(days=7))),
        EngagementRule("clicked-welcome", EventFilter("clicked", step="welcome"), 10),
        EngagementRule("pricing-page", EventFilter("visited", url="*/pricing*"), 10),
        EngagementRule("unsubscribed", EventFilter("unsubscribed"), -30, decays=False),
    ),
    patterns=(
        Pattern(
            "repeat-visits", PatternKind.REPEAT_VISITS, 10, 3, timedelta(days=7), None, PAGE_VIEW
        ),
        Pattern("busy-week", PatternKind.SESSIONS, 10, 3, within=timedelta(days=3)),
        Pattern("came-back", PatternKind.COMEBACK, 15, quiet_for=timedelta(days=60)),
    ),
    decay=Decay(timedelta(days=30), 2),
    account=AccountSignal(2, timedelta(days=14), 10),
    hand_raisers=(
        HandRaiser("demo-request", EventFilter("custom:demo_requested"), "sql"),
        HandRaiser(
            "contact-sales", EventFilter("submitted", data={"form": "contact-sales"}), "sql"
        ),
    ),
    ladder=(
        LadderRule("warm", Compare("engagement", ">=", 20), "engagement >= 20"),
        LadderRule(
            "mql",
            And((Compare("fit", "in", ("A", "B")), Compare("engagement", ">=", 50))),
            "fit in [A, B] and engagement >= 50",
        ),
        LadderRule(
            "sql",
            Or(
                (
                    Name("hand_raiser"),
                    And((Compare("fit", "==", "A"), Compare("engagement", ">=", 80))),
                )
            ),
            "hand_raiser or (fit == A and engagement >= 80)",
        ),
    ),
    fall_back=(FallBack("warm", "cold", Compare("engagement", "<", 10), "engagement < 10"),),
    promote_from=frozenset({"recycled", "disqualified"}),
)


def inline(model: str) -> str:
    """``MODEL`` as the scoring section of nurture.yaml."""
    return "scoring:\n" + "".join(f"  {line}\n" for line in model.splitlines())


class TestGoodModel:
    def test_the_whole_model_in_its_own_file(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {file: scoring.yaml}")
        funnel.write("scoring.yaml", MODEL)
        loaded = load_funnel(funnel.path)
        assert loaded.scoring == replace(EXPECTED, version=loaded.version)
        assert not loaded.scoring.empty

    def test_the_same_model_written_in_nurture_yaml(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}\n", inline(MODEL))
        loaded = load_funnel(funnel.path)
        assert loaded.scoring.version == loaded.version
        assert _without_version(loaded.scoring) == EXPECTED

    @pytest.mark.parametrize("section", ["scoring: {}\n", "scoring:\n", ""])
    def test_no_scoring_is_an_empty_model(self, funnel, section):
        funnel.replace("nurture.yaml", "scoring: {}\n", section)
        scoring = load_funnel(funnel.path).scoring
        assert scoring.empty and _without_version(scoring) == ScoringModel()

    def test_an_empty_scoring_file_is_an_empty_model(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {file: scoring.yaml}")
        funnel.write("scoring.yaml", "# nothing yet\n")
        assert load_funnel(funnel.path).scoring.empty

    def test_a_model_may_leave_out_any_part(self, funnel):
        funnel.replace(
            "nurture.yaml", "scoring: {}", 'scoring: {ladder: {warm: "engagement >= 5"}}'
        )
        scoring = load_funnel(funnel.path).scoring
        assert scoring.grades == Grades() and scoring.decay == Decay() and scoring.account is None
        assert scoring.promote_from == frozenset({"recycled"})
        assert [rule.stage for rule in scoring.ladder] == ["warm"]

    def test_promote_from_may_be_empty(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {promote_from: []}")
        assert load_funnel(funnel.path).scoring.promote_from == frozenset()

    def test_promote_from_defaults_to_nothing_without_a_recycled_stage(self, funnel):
        funnel.replace("nurture.yaml", "side: [recycled, disqualified]", "side: [disqualified]")
        assert load_funnel(funnel.path).scoring.promote_from == frozenset()

    def test_word_grades_name_their_lowest_grade(self, funnel):
        funnel.replace(
            "nurture.yaml",
            "scoring: {}",
            "scoring: {fit: {grades: {ideal: 60, good: 30, poor: rest}}}",
        )
        assert load_funnel(funnel.path).scoring.grades == Grades(
            (("ideal", 60), ("good", 30)), "poor"
        )

    def test_letter_grades_may_name_their_lowest_grade_too(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {fit: {grades: {A: 50, B: rest}}}")
        assert load_funnel(funnel.path).scoring.grades == Grades((("A", 50),), "B")

    def test_ladder_expressions_spell_grades_as_the_model_does(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", 'scoring: {ladder: {mql: "fit in [a, b]"}}')
        (rule,) = load_funnel(funnel.path).scoring.ladder
        assert rule == LadderRule("mql", Compare("fit", "in", ("A", "B")), "fit in [a, b]")

    def test_a_custom_ladder_and_its_stages(self, funnel):
        funnel.replace("nurture.yaml", "[cold, warm, mql, sql, customer]", "[lead, hot, qualified]")
        funnel.replace("nurture.yaml", "initial: cold", "initial: lead")
        funnel.replace("nurture.yaml", "cold: cold-basic", "lead: cold-basic")
        funnel.replace("sequences/cold-basic.yaml", "stages: [cold]", "stages: [lead]")
        funnel.replace(
            "nurture.yaml",
            "scoring: {}",
            'scoring: {ladder: {hot: "engagement >= 9", qualified: "fit == A"},'
            ' fall_back: {hot: {to: lead, when: "engagement < 2"}},'
            " hand_raisers: [{name: demo, event: demo_requested, stage: qualified}]}",
        )
        scoring = load_funnel(funnel.path).scoring
        assert [rule.stage for rule in scoring.ladder] == ["hot", "qualified"]
        assert scoring.fall_back[0].to == "lead"
        assert scoring.hand_raisers[0].stage == "qualified"


class TestEventNames:
    @pytest.mark.parametrize(
        ("written", "stored"),
        [
            ("opened", "opened"),
            ("bounced", "bounced"),
            ("replied", "replied"),
            ("page_view", "visited"),
            ("visited", "visited"),
            ("form_submit", "submitted"),
            ("demo_requested", "custom:demo_requested"),
            ("webinar_attended", "custom:webinar_attended"),
            ("custom:webinar_registered", "custom:webinar_registered"),
        ],
    )
    def test_a_rule_keeps_the_type_the_event_is_stored_under(self, funnel, written, stored):
        funnel.replace(
            "nurture.yaml",
            "scoring: {}",
            f"scoring: {{engagement: {{rules: [{{name: r, event: '{written}', points: 1}}]}}}}",
        )
        (rule,) = load_funnel(funnel.path).scoring.engagement_rules
        assert rule.match == EventFilter(stored)


class TestExampleFunnel:
    def test_the_example_funnel_scores(self):
        scoring = load_funnel(REPO).scoring
        assert [(rule.stage, rule.source) for rule in scoring.ladder] == [
            ("warm", "engagement >= 20"),
            ("mql", "fit in [A, B] and engagement >= 50"),
            ("sql", "hand_raiser or (fit == A and engagement >= 80)"),
        ]
        demo = next(r for r in scoring.hand_raisers if r.name == "demo-request")
        assert (demo.match, demo.stage) == (EventFilter("custom:demo_requested"), "sql")
        assert scoring.version == funnel_version(REPO)


class TestLoadScoringModel:
    def test_from_a_whole_nurture_yaml(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}\n", inline(MODEL))
        model = load_scoring_model(funnel.path / "nurture.yaml")
        assert model.version == funnel_version(funnel.path)
        assert _without_version(model) == EXPECTED

    def test_from_a_nurture_yaml_that_names_a_scoring_file(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {file: scoring.yaml}")
        funnel.write("scoring.yaml", MODEL)
        model = load_scoring_model(funnel.path / "nurture.yaml")
        assert _without_version(model) == EXPECTED

    def test_from_a_standalone_file_with_the_default_ladder(self, funnel):
        path = funnel.write("candidate.yaml", MODEL)
        model = load_scoring_model(path)
        assert _without_version(model) == EXPECTED
        assert len(model.version) == 64

    def test_a_standalone_file_names_the_stages_it_is_given(self, tmp_path):
        path = tmp_path / "candidate.yaml"
        path.write_text('ladder: {hot: "engagement >= 9"}\n')
        stages = Stages(("lead", "hot"), (), "lead")
        assert load_scoring_model(path, ladder=stages).ladder[0].stage == "hot"
        with pytest.raises(ConfigInvalid):
            load_scoring_model(path)

    def test_a_funnel_gives_its_stages_and_send_steps(self, funnel, tmp_path):
        path = tmp_path / "candidate.yaml"
        path.write_text(
            "engagement: {rules: [{name: r, event: clicked, step: pause, points: 1}]}\n"
        )
        with pytest.raises(ConfigInvalid) as caught:
            load_scoring_model(path, ladder=load_funnel(funnel.path))
        (problem,) = caught.value.problems
        assert problem.message.startswith("found 'pause', a wait step of cold-basic;")

    def test_steps_are_checked_against_the_sequences_beside_the_file(self, funnel):
        path = funnel.write(
            "candidate.yaml",
            "engagement: {rules: [{name: r, event: clicked, step: welcom, points: 1}]}\n",
        )
        with pytest.raises(ConfigInvalid) as caught:
            load_scoring_model(path)
        (problem,) = caught.value.problems
        assert (problem.file, problem.line, problem.column, problem.hint) == (
            "candidate.yaml",
            1,
            54,
            "welcome",
        )

    def test_without_sequences_steps_are_not_checked(self, tmp_path):
        path = tmp_path / "candidate.yaml"
        path.write_text("engagement: {rules: [{name: r, event: clicked, step: any, points: 1}]}\n")
        assert load_scoring_model(path).engagement_rules[0].match.step == "any"

    def test_every_problem_is_raised_at_once(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        path = tmp_path / "candidate.yaml"
        path.write_text("fit: {grades: {A: 10, B: 20}}\nladder: {wram: engagement >= 1}\n")
        with pytest.raises(ConfigInvalid) as caught:
            load_scoring_model(path)
        assert [p.format() for p in caught.value.problems] == [
            "candidate.yaml:1:26: error: fit.grades.B: found 20; expected fewer fit points "
            "than grade A (10): best grade first",
            "candidate.yaml:2:10: error: ladder.wram: found stage 'wram'; expected a ladder "
            "stage: warm, mql, sql, customer (did you mean 'warm'?)",
        ]

    def test_a_broken_nurture_yaml_raises_its_problems(self, funnel):
        funnel.replace("nurture.yaml", "max: 3", "max: none")
        with pytest.raises(ConfigInvalid) as caught:
            load_scoring_model(funnel.path / "nurture.yaml")
        assert caught.value.problems[0].path == "frequency_cap.max"

    def test_a_copy_of_nurture_yaml_is_hashed_on_its_own(self, funnel, tmp_path):
        copy = tmp_path / "candidate.yaml"
        shutil.copy(funnel.path / "nurture.yaml", copy)
        assert len(load_scoring_model(copy).version) == 64
        assert load_scoring_model(copy).version != funnel_version(funnel.path)


def _without_version(model: ScoringModel) -> ScoringModel:
    return replace(model, version="")
