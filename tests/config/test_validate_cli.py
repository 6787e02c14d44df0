"""`nurture validate`: exit status, text, --json and --github output."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nurture.cli import app
from nurture.config import funnel_version

SEQ = "sequences/cold-basic.yaml"


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["validate", *args], catch_exceptions=False)

    return invoke


def break_two_files(funnel) -> None:
    funnel.replace(SEQ, "wait: 2d", "wait: 2 days")
    funnel.replace("nurture.yaml", "  from: ", "  form: ")


class TestText:
    def test_valid_funnel_exits_0_with_a_summary(self, funnel, run):
        result = run(str(funnel.path))
        assert result.exit_code == 0
        version = funnel_version(funnel.path)[:8]
        assert result.output == (f"✓ funnel valid: 1 sequence, 1 template, version {version}…\n")

    def test_problems_exit_1_sorted_by_file_and_line(self, funnel, run):
        break_two_files(funnel)
        result = run(".")
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            "nurture.yaml:8:1: error: sender: missing key 'from'",
            "nurture.yaml:9:3: error: sender.form: unknown key (did you mean 'from'?)",
            f"{SEQ}:7:11: error: steps[1].wait: found '2 days'; "
            "expected a duration such as 30m, 4h, 2d, 1w or 1d12h",
            "✗ 3 problems in 2 files",
        ]

    def test_directory_defaults_to_the_funnel_dir_setting(self, funnel, run, monkeypatch, tmp_path):
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(funnel.path))
        assert run().exit_code == 0

    def test_missing_funnel_exits_1(self, tmp_path, run, monkeypatch):
        monkeypatch.chdir(tmp_path)
        result = run("nowhere")
        assert result.exit_code == 1
        assert result.output.startswith("nowhere/nurture.yaml:1:1: error: file is missing")

    def test_help_teaches_by_example(self, run):
        result = run("--help")
        assert result.exit_code == 0
        assert "nurture validate --json" in result.output


class TestMachineOutput:
    def test_json_for_a_valid_funnel(self, funnel, run):
        result = run(".", "--json")
        assert result.exit_code == 0
        assert json.loads(result.output) == {
            "valid": True,
            "version": funnel_version(funnel.path),
            "problems": [],
        }

    def test_json_for_an_invalid_funnel(self, funnel, run):
        break_two_files(funnel)
        result = run(".", "--json")
        assert result.exit_code == 1
        report = json.loads(result.output)
        assert (report["valid"], report["version"]) == (False, None)
        assert report["problems"][1] == {
            "file": "nurture.yaml",
            "line": 9,
            "column": 3,
            "path": "sender.form",
            "message": "unknown key",
            "hint": "from",
        }
        assert len(report["problems"]) == 3

    def test_github_annotations(self, funnel, run):
        break_two_files(funnel)
        result = run(".", "--github")
        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert lines[1] == (
            "::error file=nurture.yaml,line=9,col=3::sender.form: unknown key "
            "(did you mean 'from'?)"
        )
        assert lines[2].startswith(f"::error file={SEQ},line=7,col=11::steps[1].wait: found")

    def test_json_and_github_together_are_refused(self, funnel, run):
        assert run(".", "--json", "--github").exit_code == 2
