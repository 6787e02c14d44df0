"""Fixtures for config tests: a minimal valid funnel in tmp_path that a test then breaks.

``funnel`` writes nurture.yaml, one sequence and its template, and chdirs into the folder so
problems name files as ``nurture.yaml`` and ``sequences/cold-basic.yaml``. Tests overwrite
one file (whole, so the line numbers they assert are visible in the test) or replace a
snippet, then read ``funnel.problems()`` or ``funnel.only_problem()``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nurture.config import ConfigProblem, validate_funnel

PIPELINE = """\
version: 1
stages:
  ladder: [cold, warm, mql, sql, customer]
  side: [recycled, disqualified]
  initial: cold
sequences:
  cold: cold-basic
sender:
  from: "Maya Chen <maya@example.com>"
  reply_to: hello@example.com
  postal_address: "1 Main St, Springfield"
send_window:
  days: [mon, tue, wed, thu, fri]
  hours: "09:00-17:00"
frequency_cap:
  max: 3
  per: 7d
sample_lead:
  email: jordan@example.com
  first_name: Jordan
  time_zone: America/Chicago
  attributes: {company_size: 240}
scoring: {}
handoff: {}
"""

SEQUENCE = """\
id: cold-basic
stages: [cold]
steps:
  - id: welcome
    send: {template: cold/welcome.html, subject: "Hi {{ lead.first_name }}"}
  - id: pause
    wait: 2d
  - id: done
    exit: completed
"""

TEMPLATE = "<p>Hello {{ lead.first_name }}, welcome aboard.</p>\n"


class FunnelDir:
    """A funnel folder under test, with helpers to rewrite its files and validate it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
        return target

    def replace(self, name: str, old: str, new: str) -> None:
        target = self.path / name
        content = target.read_text()
        assert old in content, f"{old!r} not in {name}"
        target.write_text(content.replace(old, new, 1))

    def pipeline(self, text: str) -> None:
        self.write("nurture.yaml", text)

    def sequence(self, text: str, name: str = "cold-basic") -> None:
        self.write(f"sequences/{name}.yaml", text)

    def problems(self) -> list[ConfigProblem]:
        funnel, problems = validate_funnel(self.path)
        assert (funnel is None) == bool(problems)
        return problems

    def only_problem(self) -> ConfigProblem:
        problems = self.problems()
        assert len(problems) == 1, "\n".join(p.format() for p in problems)
        return problems[0]


@pytest.fixture
def funnel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FunnelDir:
    """A valid minimal funnel in ``tmp_path/funnel``; the working directory is that folder."""
    folder = FunnelDir(tmp_path / "funnel")
    folder.write("nurture.yaml", PIPELINE)
    folder.write("sequences/cold-basic.yaml", SEQUENCE)
    folder.write("templates/cold/welcome.html", TEMPLATE)
    monkeypatch.chdir(folder.path)
    return folder


def at(problem: ConfigProblem) -> tuple[str, int, int]:
    return problem.file, problem.line, problem.column


@pytest.fixture
def scoring(funnel):
    """Write the model to scoring.yaml and return the funnel to validate."""
    funnel.replace("nurture.yaml", "scoring: {}", "scoring: {file: scoring.yaml}")

    def write(text: str):
        funnel.write("scoring.yaml", text)
        return funnel

    return write
