"""``nurture.yaml``: the stage ladder, which sequence each stage runs, and the sending rules.

Names that point into other files (sequence ids, the sample lead's stage) are kept with
their nodes and resolved by ``nurture.config.checks`` once every sequence file is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from nurture.config import sending
from nurture.config.handoff import parse_handoff
from nurture.config.nodes import Node, choice, fields, text, text_list
from nurture.config.problems import ConfigProblem, did_you_mean
from nurture.config.refs import StageRef, StepRef
from nurture.config.sample import sample_lead
from nurture.config.scoring_section import parse_scoring
from nurture.config.yamldoc import YamlDoc
from nurture.core.funnel import (
    DEFAULT_LADDER,
    DEFAULT_SIDE_STAGES,
    FrequencyCap,
    Funnel,
    Reengagement,
    Sender,
    SendWindow,
)
from nurture.core.handoff_model import HandoffModel
from nurture.core.scoring_model import ScoringModel
from nurture.core.sequence import Sequence

REQUIRED_KEYS = ("version", "sender", "send_window", "frequency_cap")
OPTIONAL_KEYS = ("stages", "sequences", "reengagement", "sample_lead", "scoring", "handoff")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Stages:
    ladder: tuple[str, ...]
    side: tuple[str, ...]
    initial: str

    @property
    def all(self) -> tuple[str, ...]:
        return self.ladder + self.side


@dataclass(frozen=True)
class StageChoice:
    """``sequences: {stage: sequence-id}``: one entry, with both nodes for messages."""

    stage: str
    sequence: str
    node: Node  # the sequence id's node; the stage's key is ``node.path[-1]``


@dataclass
class ParsedPipeline:
    """nurture.yaml as far as it could be read; ``None`` fields had problems."""

    doc: YamlDoc
    complete: bool = False  # no problem in this file
    stages: Stages | None = None
    choices: list[StageChoice] = field(default_factory=list)
    reengagement: Reengagement | None = None
    reengagement_node: Node | None = None
    sender: Sender | None = None
    send_window: SendWindow | None = None
    frequency_cap: FrequencyCap | None = None
    sample_lead: dict[str, object] | None = field(default_factory=dict)  # None: invalid
    sample_stage: StageRef | None = None
    scoring: ScoringModel = field(default_factory=ScoringModel)
    scoring_steps: list[StepRef] = field(default_factory=list)  # checked against sequences
    scoring_file: Node | None = None  # ``scoring: {file: ...}``: read by load.read_scoring_file
    handoff: HandoffModel = field(default_factory=HandoffModel)

    def funnel(self, sequences: Mapping[str, Sequence], version: str) -> Funnel:
        """The Funnel; only for a pipeline without problems."""
        if not self.complete or self.stages is None or self.sender is None:
            raise RuntimeError("funnel() needs a nurture.yaml without problems")
        if self.send_window is None or self.frequency_cap is None or self.sample_lead is None:
            raise RuntimeError("funnel() needs a nurture.yaml without problems")
        return Funnel(
            ladder=self.stages.ladder,
            side_stages=self.stages.side,
            initial_stage=self.stages.initial,
            stage_sequences={c.stage: c.sequence for c in self.choices},
            sequences=dict(sequences),
            sender=self.sender,
            send_window=self.send_window,
            frequency_cap=self.frequency_cap,
            reengagement=self.reengagement,
            sample_lead=self.sample_lead,
            scoring=replace(self.scoring, version=version),
            handoff=self.handoff,
            version=version,
        )


def parse_pipeline(
    doc: YamlDoc, problems: list[ConfigProblem], lines: tuple[str, ...] = ()
) -> ParsedPipeline:
    """Read nurture.yaml; its problems are appended to ``problems``. ``lines`` (the file's
    text) lets a mistake in a ladder expression point at its own column."""
    before = len(problems)
    parsed = ParsedPipeline(doc)
    root = Node(doc, problems, (), doc.data)
    parts = fields(root, REQUIRED_KEYS, OPTIONAL_KEYS, what="the pipeline: a mapping of keys")
    if parts is None:
        return parsed
    if "version" in parts and parts["version"].value != FORMAT_VERSION:
        parts["version"].expected(f"{FORMAT_VERSION} (the only format version so far)")
    parsed.stages = _stages(parts["stages"]) if "stages" in parts else _default_stages()
    if "sequences" in parts:
        parsed.choices = _choices(parts["sequences"], parsed.stages)
    if "reengagement" in parts:
        parsed.reengagement = sending.reengagement(parts["reengagement"])
        parsed.reengagement_node = parts["reengagement"].child("sequence")
    if "sender" in parts:
        parsed.sender = sending.sender(parts["sender"])
    if "send_window" in parts:
        parsed.send_window = sending.send_window(parts["send_window"])
    if "frequency_cap" in parts:
        parsed.frequency_cap = sending.frequency_cap(parts["frequency_cap"])
    if "sample_lead" in parts:
        parsed.sample_lead, parsed.sample_stage = sample_lead(parts["sample_lead"])
    if "scoring" in parts:
        _scoring(parts["scoring"], parsed, lines)
    if "handoff" in parts:
        parsed.handoff = parse_handoff(parts["handoff"], parsed.stages) or HandoffModel()
    parsed.complete = len(problems) == before
    return parsed


def _scoring(node: Node, parsed: ParsedPipeline, lines: tuple[str, ...]) -> None:
    """The model written here, or ``{file: scoring.yaml}`` naming the file that holds it."""
    if isinstance(node.value, dict) and "file" in node.value:
        for key in node.value:
            if key != "file":
                message = f"found {key!r} beside file; expected the whole model in that file"
                node.child(key).error(message, at_key=True)
        where = "a path such as scoring.yaml, relative to nurture.yaml"
        if text(node.child("file"), where) is not None and len(node.value) == 1:
            parsed.scoring_file = node.child("file")
        return
    scoring = parse_scoring(node, parsed.stages, lines)
    parsed.scoring = scoring.model or ScoringModel()
    parsed.scoring_steps = scoring.steps


def _default_stages() -> Stages:
    return Stages(DEFAULT_LADDER, DEFAULT_SIDE_STAGES, DEFAULT_LADDER[0])


def _stages(node: Node) -> Stages | None:
    parts = fields(node, [], ["ladder", "side", "initial"])
    if parts is None:
        return None
    before = len(node.problems)
    ladder = text_list(parts["ladder"], "stage name") if "ladder" in parts else None
    side = text_list(parts["side"], "stage name", allow_empty=True) if "side" in parts else None
    if len(node.problems) != before:
        return None
    ladder_names = tuple(name for name, _ in ladder) if ladder else DEFAULT_LADDER
    side_names = tuple(name for name, _ in side) if side is not None else DEFAULT_SIDE_STAGES
    seen: dict[str, int] = {}
    for name, item in [*(ladder or []), *(side or [])]:
        if name in seen:
            item.expected(f"each stage once (first at line {seen[name]})")
        seen.setdefault(name, item.line())
    initial = ladder_names[0]
    if "initial" in parts:
        what = "a stage of the ladder: " + ", ".join(dict.fromkeys(ladder_names))
        initial = choice(parts["initial"], ladder_names, what) or initial
    if len(node.problems) != before:
        return None
    return Stages(ladder_names, side_names, initial)


def _choices(node: Node, stages: Stages | None) -> list[StageChoice]:
    """Stage -> sequence id entries; stages checked here, sequence ids by ``checks``."""
    if not isinstance(node.value, dict):
        node.expected("a mapping of stage -> sequence id, such as {cold: cold-education}")
        return []
    out: list[StageChoice] = []
    for stage in node.value:
        child = node.child(stage)
        if stages is not None and stage not in stages.all:
            child.error(
                f"found stage {stage!r}; expected a stage: " + ", ".join(stages.all),
                did_you_mean(stage, stages.all),
                at_key=True,
            )
            continue
        if child.value is None:
            continue  # the stage runs no sequence
        sequence = text(child, "a sequence id such as cold-education")
        if sequence is not None:
            out.append(StageChoice(stage, sequence, child))
    return out
