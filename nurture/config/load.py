"""Load a funnel directory into a ``Funnel``, or say everything that is wrong with it.

Order: read nurture.yaml and every sequence file (each problem at its own place), check the
names that cross files, and only when all of that is sound build the Funnel and render
every template for the sample lead. A refused config changes nothing: the caller keeps its
last good Funnel.
"""

from __future__ import annotations

from pathlib import Path

from nurture.config.checks import check_funnel
from nurture.config.pipeline import ParsedPipeline, parse_pipeline
from nurture.config.problems import ConfigProblem
from nurture.config.sequence import ParsedSequence, parse_sequence
from nurture.config.templates import template_problems
from nurture.config.version import funnel_version
from nurture.config.yamldoc import load_yaml
from nurture.core.funnel import Funnel
from nurture.errors import ConfigInvalid

START_HINT = (
    "file is missing; expected the pipeline file here. Start from the example funnel "
    "(nurture.yaml, sequences/, templates/ in the nurture repository) and see docs/funnel.md"
)


def load_funnel(directory: Path) -> Funnel:
    """The funnel in ``directory``; raises ConfigInvalid listing every problem."""
    funnel, problems = validate_funnel(directory)
    if funnel is None:
        raise ConfigInvalid(problems)
    return funnel


def validate_funnel(directory: Path) -> tuple[Funnel | None, list[ConfigProblem]]:
    """The funnel and no problems, or None and every problem, sorted by file and place."""
    problems: list[ConfigProblem] = []
    pipeline = _read_pipeline(directory, problems)
    sequences = _read_sequences(directory, problems)
    check_funnel(pipeline, sequences)
    if problems or pipeline is None:
        return None, _sorted(problems)
    built = {p.sequence.id: p.sequence for p in sequences if p.sequence is not None}
    funnel = pipeline.funnel(built, funnel_version(directory))
    problems = template_problems(funnel, directory, sequences)
    return (None if problems else funnel), _sorted(problems)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    for candidate, cwd in ((path.absolute(), Path.cwd()), (path.resolve(), Path.cwd().resolve())):
        try:
            return candidate.relative_to(cwd).as_posix()
        except ValueError:
            continue
    return str(path.absolute())


def _read_pipeline(directory: Path, problems: list[ConfigProblem]) -> ParsedPipeline | None:
    path = directory / "nurture.yaml"
    if not path.is_file():
        problems.append(ConfigProblem(display_path(path), 1, 1, "", START_HINT))
        return None
    doc, found = load_yaml(path, display_path(path))
    problems += found
    return None if doc.broken else parse_pipeline(doc, problems)


def _read_sequences(directory: Path, problems: list[ConfigProblem]) -> list[ParsedSequence]:
    folder = directory / "sequences"
    for stray in sorted(folder.glob("*.yml")):
        message = "found a .yml file; expected sequence files to end in .yaml (rename it)"
        problems.append(ConfigProblem(display_path(stray), 1, 1, "", message))
    out: list[ParsedSequence] = []
    for path in sorted(folder.glob("*.yaml")):
        doc, found = load_yaml(path, display_path(path))
        problems += found
        out.append(ParsedSequence(doc) if doc.broken else parse_sequence(doc, problems))
    return out


def _sorted(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: (p.file, p.line, p.column, p.path, p.message))
