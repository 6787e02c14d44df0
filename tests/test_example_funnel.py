"""The shipped example funnel is what `make run`, the demo and the tests use: it must stay
valid, complete, and refuse a broken copy with file:line errors."""

import shutil
from pathlib import Path

from typer.testing import CliRunner

from nurture.cli import app
from nurture.config import load_funnel

REPO = Path(__file__).resolve().parents[1]


def test_shipped_funnel_is_valid_and_covers_every_nurture_stage():
    funnel = load_funnel(REPO)
    assert funnel.initial_stage == "cold"
    assert {stage: funnel.stage_sequences.get(stage) for stage in ("cold", "warm", "recycled")} == {
        "cold": "cold-education",
        "warm": "warm-evaluation",
        "recycled": "recycled-nurture",
    }
    assert funnel.reengagement is not None
    assert funnel.reengagement.sequence == "sunset-reengagement"
    for sequence in funnel.sequences.values():
        assert len(sequence.sends()) >= 3, f"{sequence.id} is too thin for a real funnel"


def test_broken_copy_is_refused_with_file_line_and_a_suggestion(tmp_path):
    for name in ("sequences", "templates"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "nurture.yaml", tmp_path)
    cold = tmp_path / "sequences" / "cold-education.yaml"
    text = cold.read_text()
    cold.write_text(text.replace("goto: pause-before-ask", "goto: pause-befor-ask"))
    line = next(
        number
        for number, content in enumerate(text.splitlines(), start=1)
        if "goto: pause-before-ask" in content
    )

    result = CliRunner().invoke(app, ["validate", str(tmp_path)])

    assert result.exit_code == 1
    assert f"cold-education.yaml:{line}:" in result.output
    assert "did you mean 'pause-before-ask'?" in result.output
