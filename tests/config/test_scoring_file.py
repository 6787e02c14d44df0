"""``scoring: {file: NAME}``: the model in its own file. Mistakes in naming the file are
reported in nurture.yaml (``scoring`` is on line 23), mistakes inside it in that file; and
nothing loads while anything is wrong."""

from __future__ import annotations

import pytest

from nurture.config import validate_funnel
from tests.config.conftest import at


def name_file(funnel, value: str) -> None:
    funnel.replace("nurture.yaml", "scoring: {}", f"scoring: {value}")


class TestNamingTheFile:
    def test_a_missing_file(self, funnel):
        name_file(funnel, "{file: scoring.yaml}")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 23, 17)
        assert problem.format() == (
            "nurture.yaml:23:17: error: scoring.file: found 'scoring.yaml'; expected an "
            "existing file (scoring.yaml is missing)"
        )

    def test_the_file_lies_in_the_funnel_folder(self, funnel):
        name_file(funnel, "{file: ../scoring.yaml}")
        funnel.write("../scoring.yaml", "fit: {}\n")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 23, 17)
        assert problem.message == (
            "found '../scoring.yaml'; expected a path inside the funnel folder, relative to "
            "nurture.yaml"
        )

    @pytest.mark.parametrize("name", ["nurture.yaml", "sequences/scoring.yaml"])
    def test_not_nurture_yaml_nor_a_sequence_file(self, funnel, name):
        name_file(funnel, f"{{file: {name}}}")
        problem = funnel.problems()[-1]
        assert (at(problem), problem.path) == (("nurture.yaml", 23, 17), "scoring.file")
        assert problem.message == (
            f"found {name!r}; expected a file of its own beside nurture.yaml, such as scoring.yaml"
        )

    def test_no_other_key_beside_file(self, funnel):
        name_file(funnel, "{file: scoring.yaml, ladder: {}}")
        funnel.write("scoring.yaml", "")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 23, 31)
        assert (
            problem.message == "found 'ladder' beside file; expected the whole model in that file"
        )

    def test_file_is_text(self, funnel):
        name_file(funnel, "{file: [a.yaml]}")
        problem = funnel.only_problem()
        assert problem.message == (
            "found a list; expected a path such as scoring.yaml, relative to nurture.yaml"
        )

    def test_a_subfolder_is_fine(self, funnel):
        name_file(funnel, "{file: models/scoring.yaml}")
        funnel.write("models/scoring.yaml", 'ladder: {warm: "engagement >= 1"}\n')
        assert funnel.problems() == []


class TestInsideTheFile:
    def test_yaml_syntax_errors_point_into_the_file(self, funnel):
        name_file(funnel, "{file: scoring.yaml}")
        funnel.write("scoring.yaml", "fit: [\n")
        problem = funnel.only_problem()
        assert problem.file == "scoring.yaml"
        assert problem.message.startswith("invalid YAML")

    def test_the_top_level_is_the_model(self, funnel):
        name_file(funnel, "{file: scoring.yaml}")
        funnel.write("scoring.yaml", "scoring:\n  ladder: {}\n")
        problem = funnel.only_problem()
        assert at(problem) == ("scoring.yaml", 1, 1)
        assert (problem.path, problem.message) == ("scoring", "unknown key")

    def test_a_list_is_no_model(self, funnel):
        name_file(funnel, "{file: scoring.yaml}")
        funnel.write("scoring.yaml", "- warm\n")
        problem = funnel.only_problem()
        assert problem.message == (
            "found a list; expected a mapping (the scoring model) with fit, engagement, account, "
            "hand_raisers, ladder, fall_back, promote_from, recycled_engagement, "
            "or {file: scoring.yaml}; see docs/scoring.md"
        )

    def test_stages_come_from_nurture_yaml(self, funnel):
        funnel.replace("nurture.yaml", "[cold, warm, mql, sql, customer]", "[cold, hot]")
        name_file(funnel, "{file: scoring.yaml}")
        funnel.write("scoring.yaml", "ladder:\n  warm: engagement >= 1\n")
        problem = funnel.only_problem()
        assert at(problem) == ("scoring.yaml", 2, 3)
        assert problem.message == "found stage 'warm'; expected a ladder stage: hot"


class TestNothingLoads:
    def test_every_problem_in_both_files_and_no_funnel(self, funnel):
        name_file(funnel, "{file: scoring.yaml}")
        funnel.replace("nurture.yaml", "max: 3", "max: none")
        funnel.write(
            "scoring.yaml",
            "engagement:\n  floor: -2\nladder:\n  wram: engagement >= 1\n",
        )
        loaded, problems = validate_funnel(funnel.path)
        assert loaded is None
        assert [(at(p), p.path) for p in problems] == [
            (("nurture.yaml", 16, 8), "frequency_cap.max"),
            (("scoring.yaml", 2, 10), "engagement.floor"),
            (("scoring.yaml", 4, 3), "ladder.wram"),
        ]

    def test_broken_stages_leave_stage_names_unchecked(self, funnel):
        funnel.replace("nurture.yaml", "ladder: [cold, warm, mql, sql, customer]", "ladder: []")
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {ladder: {wram: engagement > 1}}")
        problem = funnel.only_problem()
        assert problem.path == "stages.ladder"
