"""Load a funnel directory into a ``Funnel``, or say everything that is wrong with it.

Order: read nurture.yaml and every sequence file (each problem at its own place), check the
names that cross files, and only when all of that is sound build the Funnel and render
every template for the sample lead. A refused config changes nothing: the caller keeps its
last good Funnel.
"""

from __future__ import annotations

from pathlib import Path

from nurture.config.checks import check_funnel
from nurture.config.nodes import Node
from nurture.config.pipeline import ParsedPipeline, parse_pipeline
from nurture.config.problems import ConfigProblem
from nurture.config.scoring_section import parse_scoring
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
    return read_pipeline_file(path, problems)


def read_pipeline_file(path: Path, problems: list[ConfigProblem]) -> ParsedPipeline | None:
    """A nurture.yaml (or a copy of one) with its scoring model, following ``file:``."""
    doc, found = load_yaml(path, display_path(path))
    problems += found
    if doc.broken:
        return None
    pipeline = parse_pipeline(doc, problems, _lines(path))
    if pipeline.scoring_file is not None:
        read_scoring_file(pipeline, path.parent, problems)
    return pipeline


def read_scoring_file(pipeline: ParsedPipeline, base: Path, problems: list[ConfigProblem]) -> None:
    """``scoring: {file: NAME}``: the model from that file, its problems placed in it."""
    node = pipeline.scoring_file
    path = scoring_path(node, base) if node is not None else None
    if path is None:
        pipeline.complete = False
        return
    doc, found = load_yaml(path, display_path(path))
    problems += found
    before = len(problems)
    if not doc.broken:
        parsed = parse_scoring(Node(doc, problems, (), doc.data), pipeline.stages, _lines(path))
        pipeline.scoring_steps = parsed.steps
        if parsed.model is not None:
            pipeline.scoring = parsed.model
    if doc.broken or found or len(problems) != before:
        pipeline.complete = False


def scoring_path(node: Node, base: Path) -> Path | None:
    """The file ``scoring.file`` names: inside the funnel folder, not nurture.yaml itself
    and not under sequences/ (every file there is read as a sequence)."""
    name = node.value
    if not isinstance(name, str):
        return None
    target = (base / name).resolve()
    try:
        inside = target.relative_to(base.resolve())
    except ValueError:
        node.expected("a path inside the funnel folder, relative to nurture.yaml")
        return None
    if inside.parts[:1] == ("sequences",) or inside == Path("nurture.yaml"):
        node.expected("a file of its own beside nurture.yaml, such as scoring.yaml")
        return None
    if not target.is_file():
        node.expected(f"an existing file ({display_path(base / inside)} is missing)")
        return None
    return base / inside


def _lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8", errors="replace").splitlines())


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
