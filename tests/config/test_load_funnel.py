"""load_funnel / validate_funnel as a whole: the Funnel built, refusal, file names in
problems, template findings placed in the YAML, and the content-hashed version."""

from __future__ import annotations

import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest

import nurture.config
from nurture.config import funnel_version, load_funnel, validate_funnel
from nurture.core.funnel import Sender
from nurture.core.handoff_model import HandoffModel
from nurture.core.scoring_model import ScoringModel
from nurture.core.sequence import Exit, Send, WaitFor
from nurture.errors import ConfigInvalid
from nurture.mail.check import TemplateFinding
from tests.config.conftest import at

SEQ = "sequences/cold-basic.yaml"


def test_public_names():
    assert nurture.config.__all__ == sorted(nurture.config.__all__)
    assert set(nurture.config.__all__) == {
        "ConfigProblem",
        "funnel_version",
        "load_funnel",
        "validate_funnel",
    }


class TestValidFunnel:
    def test_builds_the_core_types(self, funnel):
        loaded = load_funnel(funnel.path)
        assert loaded.ladder == ("cold", "warm", "mql", "sql", "customer")
        assert loaded.side_stages == ("recycled", "disqualified")
        assert loaded.initial_stage == "cold"
        assert loaded.stage_sequences == {"cold": "cold-basic"}
        assert loaded.sender == Sender(
            "maya@example.com", "Maya Chen", "hello@example.com", "1 Main St, Springfield"
        )
        assert loaded.send_window.days == frozenset({0, 1, 2, 3, 4})
        assert (loaded.send_window.start, loaded.send_window.end) == (time(9), time(17))
        assert loaded.frequency_cap.max_emails == 3
        assert loaded.frequency_cap.period == timedelta(days=7)
        assert loaded.sample_lead["attributes"] == {"company_size": 240}
        assert loaded.version == funnel_version(funnel.path)

    def test_builds_the_sequence(self, funnel):
        sequence = load_funnel(funnel.path).sequences["cold-basic"]
        assert sequence.stages == ("cold",)
        assert sequence.source == SEQ
        assert [step.id for step in sequence.steps] == ["welcome", "pause", "done"]
        assert sequence.steps[0].action == Send("cold/welcome.html", "Hi {{ lead.first_name }}")
        assert sequence.steps[1].action == WaitFor(duration=timedelta(days=2))
        assert sequence.steps[2].action == Exit("completed")

    def test_defaults_when_optional_sections_are_left_out(self, funnel):
        for section in (
            "stages:\n  ladder: [cold, warm, mql, sql, customer]\n"
            "  side: [recycled, disqualified]\n  initial: cold\n",
            "scoring: {}\n",
            "handoff: {}\n",
        ):
            funnel.replace("nurture.yaml", section, "")
        loaded = load_funnel(funnel.path)
        assert loaded.ladder == ("cold", "warm", "mql", "sql", "customer")
        assert loaded.scoring == ScoringModel(version=loaded.version) and loaded.scoring.empty
        assert loaded.handoff == HandoffModel() and loaded.handoff.empty

    def test_scoring_model_carries_the_funnel_version(self, funnel):
        loaded = load_funnel(funnel.path)
        assert loaded.scoring.empty
        assert loaded.scoring.version == loaded.version == funnel_version(funnel.path)


class TestRefusal:
    def test_load_funnel_raises_with_every_problem_sorted(self, funnel):
        funnel.replace(SEQ, "wait: 2d", "wait: soon")
        funnel.replace("nurture.yaml", "max: 3", "max: none")
        with pytest.raises(ConfigInvalid) as caught:
            load_funnel(funnel.path)
        assert [at(p) for p in caught.value.problems] == [
            ("nurture.yaml", 16, 8),
            (SEQ, 7, 11),
        ]
        assert "nurture.yaml:16:8" in str(caught.value)

    def test_missing_pipeline_file_says_how_to_start(self, tmp_path, monkeypatch):
        (tmp_path / "empty").mkdir()
        monkeypatch.chdir(tmp_path)
        funnel, problems = validate_funnel(Path("empty"))
        assert funnel is None
        [problem] = problems
        assert at(problem) == ("empty/nurture.yaml", 1, 1)
        assert problem.message.startswith("file is missing; expected the pipeline file here")
        assert "docs/funnel.md" in problem.message

    def test_files_outside_the_working_directory_are_shown_in_full(
        self, funnel, tmp_path, monkeypatch
    ):
        other = tmp_path / "elsewhere"
        other.mkdir()
        monkeypatch.chdir(other)
        funnel.replace("nurture.yaml", "max: 3", "max: 0")
        problem = funnel.only_problem()
        assert problem.file == str(funnel.path / "nurture.yaml")


class TestTemplateFindings:
    def finding(self, monkeypatch, field: str, seen: list[object] | None = None) -> None:
        def fake(funnel, templates_dir):
            if seen is not None:
                seen.append(templates_dir)
            return [TemplateFinding("cold-basic", "welcome", field, "boom", "hint-x")]

        monkeypatch.setattr("nurture.config.templates.check_templates", fake)

    def test_finding_is_placed_at_the_send_field(self, funnel, monkeypatch):
        seen: list[object] = []
        self.finding(monkeypatch, "subject", seen)
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 5, 50)
        assert (problem.path, problem.message, problem.hint) == (
            "steps[0].send.subject",
            "boom",
            "hint-x",
        )
        assert seen == [funnel.path / "templates"]

    def test_finding_for_an_absent_field_is_placed_at_the_send(self, funnel, monkeypatch):
        self.finding(monkeypatch, "preheader")
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 5, 11)
        assert problem.path == "steps[0].send"

    def test_templates_are_not_checked_while_the_yaml_has_problems(self, funnel, monkeypatch):
        def fail(funnel, templates_dir):
            raise AssertionError("template check ran on a broken funnel")

        monkeypatch.setattr("nurture.config.templates.check_templates", fail)
        funnel.replace("nurture.yaml", "max: 3", "max: 0")
        assert len(funnel.problems()) == 1

    def test_missing_template_file(self, funnel):
        (funnel.path / "templates/cold/welcome.html").unlink()
        problem = funnel.only_problem()
        assert at(problem) == (SEQ, 5, 22)
        assert problem.path == "steps[0].send.template"
        assert "cold/welcome.html" in problem.message


class TestVersion:
    def test_same_content_same_version(self, funnel):
        assert funnel_version(funnel.path) == funnel_version(funnel.path)
        assert len(funnel_version(funnel.path)) == 64

    def test_a_template_byte_changes_it(self, funnel):
        before = funnel_version(funnel.path)
        funnel.replace("templates/cold/welcome.html", "aboard.", "aboard!")
        assert funnel_version(funnel.path) != before

    def test_a_new_partial_changes_it(self, funnel):
        before = funnel_version(funnel.path)
        funnel.write("templates/partials/footer.html", "<p>bye</p>")
        assert funnel_version(funnel.path) != before

    def test_sequence_and_pipeline_changes_change_it(self, funnel):
        first = funnel_version(funnel.path)
        funnel.replace(SEQ, "wait: 2d", "wait: 3d")
        second = funnel_version(funnel.path)
        funnel.replace("nurture.yaml", "max: 3", "max: 4")
        assert len({first, second, funnel_version(funnel.path)}) == 3

    def test_renaming_a_template_changes_it(self, funnel):
        before = funnel_version(funnel.path)
        templates = funnel.path / "templates/cold"
        (templates / "welcome.html").rename(templates / "hello.html")
        assert funnel_version(funnel.path) != before

    def test_files_outside_the_funnel_do_not_change_it(self, funnel):
        before = funnel_version(funnel.path)
        funnel.write("README.md", "notes")
        funnel.write("sequences/notes.txt", "draft")
        assert funnel_version(funnel.path) == before

    def test_the_scoring_file_changes_it(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: {file: scoring.yaml}")
        funnel.write("scoring.yaml", "engagement:\n  floor: 1\n")
        before = funnel_version(funnel.path)
        funnel.replace("scoring.yaml", "floor: 1", "floor: 2")
        assert funnel_version(funnel.path) != before
        assert load_funnel(funnel.path).scoring.version == funnel_version(funnel.path)

    def test_a_scoring_file_nurture_yaml_does_not_name_leaves_it(self, funnel):
        before = funnel_version(funnel.path)
        funnel.write("scoring.yaml", "engagement:\n  floor: 1\n")
        assert funnel_version(funnel.path) == before

    def test_does_not_depend_on_where_the_folder_is(self, funnel, tmp_path):
        copy = tmp_path / "copy"
        shutil.copytree(funnel.path, copy)
        assert funnel_version(copy) == funnel_version(funnel.path)
