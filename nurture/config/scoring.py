"""A scoring model on its own, for the backtest and ``explain``: from a whole nurture.yaml
(its ``scoring`` section, following ``file:``) or from a standalone scoring file.

A funnel's own model comes with the funnel (``load_funnel(...).scoring``); this is for a
candidate model that is not live yet. Problems are the same as ``nurture validate`` reports,
raised together as ``ConfigInvalid``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nurture.config.checks import check_scoring_steps, send_steps
from nurture.config.load import display_path, read_pipeline_file, scoring_path
from nurture.config.nodes import Node
from nurture.config.pipeline import OPTIONAL_KEYS, REQUIRED_KEYS, Stages
from nurture.config.problems import ConfigProblem
from nurture.config.refs import StepRef
from nurture.config.scoring_section import parse_scoring
from nurture.config.sequence import parse_sequence
from nurture.config.version import files_version, funnel_version
from nurture.config.yamldoc import load_yaml
from nurture.core.funnel import DEFAULT_LADDER, DEFAULT_SIDE_STAGES, Funnel
from nurture.core.scoring_model import ScoringModel
from nurture.errors import ConfigInvalid

__all__ = ["load_scoring_model"]

PIPELINE_KEYS = frozenset(REQUIRED_KEYS + OPTIONAL_KEYS) - {"scoring"}


def load_scoring_model(path: Path, *, ladder: Funnel | Stages | None = None) -> ScoringModel:
    """The model in ``path``: a nurture.yaml (its own stages apply) or a scoring file whose
    top level is the ``scoring`` mapping (stages from ``ladder``, default cold -> customer).

    ``step`` names are checked against the sequences of ``ladder`` when it is a Funnel, else
    against ``sequences/`` beside ``path`` when that folder is there and sound. ``version``
    is the funnel version for a nurture.yaml, else a hash of the file. Raises ConfigInvalid.
    """
    problems: list[ConfigProblem] = []
    doc, found = load_yaml(path, display_path(path))
    problems += found
    if doc.broken:
        raise ConfigInvalid(problems)
    if isinstance(doc.data, dict) and (PIPELINE_KEYS | {"scoring"}) & set(doc.data):
        model, steps, version = _from_pipeline(path, problems)
    else:
        stages = _stages(ladder)
        lines = tuple(path.read_text(encoding="utf-8").splitlines())
        parsed = parse_scoring(Node(doc, problems, (), doc.data), stages, lines)
        model, steps = parsed.model, parsed.steps
        version = files_version(path.parent, [path])
    if not problems:
        known = _known_steps(path.parent, ladder)
        if known is not None:
            check_scoring_steps(steps, known)
    if problems or model is None:
        raise ConfigInvalid(problems)
    return replace(model, version=version)


def _from_pipeline(
    path: Path, problems: list[ConfigProblem]
) -> tuple[ScoringModel | None, list[StepRef], str]:
    before = len(problems)
    pipeline = read_pipeline_file(path, problems)
    if pipeline is None or len(problems) != before:
        return None, [], ""
    if path.name == "nurture.yaml":
        version = funnel_version(path.parent)
    else:
        node = pipeline.scoring_file
        own = scoring_path(node, path.parent) if node is not None else None
        version = files_version(path.parent, [path] + ([own] if own else []))
    return pipeline.scoring, pipeline.scoring_steps, version


def _stages(ladder: Funnel | Stages | None) -> Stages:
    if isinstance(ladder, Stages):
        return ladder
    if isinstance(ladder, Funnel):
        return Stages(ladder.ladder, ladder.side_stages, ladder.initial_stage)
    return Stages(DEFAULT_LADDER, DEFAULT_SIDE_STAGES, DEFAULT_LADDER[0])


def _known_steps(folder: Path, ladder: Funnel | Stages | None) -> dict[str, str | None] | None:
    """Step ids to check ``step:`` against, or None when there is nothing sound to check."""
    if isinstance(ladder, Funnel):
        return send_steps(ladder.sequences.values())
    files = sorted((folder / "sequences").glob("*.yaml"))
    if not files:
        return None
    scratch: list[ConfigProblem] = []  # `nurture validate` reports these; here: don't check
    built = []
    for file in files:
        doc, found = load_yaml(file, display_path(file))
        parsed = parse_sequence(doc, scratch) if not doc.broken and not found else None
        if parsed is None or parsed.sequence is None:
            return None
        built.append(parsed.sequence)
    return send_steps(built)
