"""Checks across files: sequence ids are unique and exist where nurture.yaml names them,
every stage named anywhere is on the ladder, a stage runs only a sequence serving it, and a
scoring rule's ``step`` names a send step of some sequence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nurture.config.nodes import Node
from nurture.config.pipeline import ParsedPipeline
from nurture.config.problems import did_you_mean
from nurture.config.refs import StageRef, StepRef
from nurture.config.sequence import ParsedSequence
from nurture.core.sequence import AwaitEvent, Branch, Goal, Send, Sequence, WaitFor

KINDS = {Send: "send", WaitFor: "wait", AwaitEvent: "wait_for", Branch: "branch", Goal: "goal"}


def check_funnel(pipeline: ParsedPipeline | None, sequences: list[ParsedSequence]) -> None:
    """Record cross-file problems on the nodes where the names are written."""
    by_id = _unique_ids(sequences)
    # A sequence file too broken to give its id would make every reference to it look
    # unknown; leave those for the run after the file is fixed.
    ids_known = all(parsed.id is not None for parsed in sequences)
    stages = pipeline.stages.all if pipeline is not None and pipeline.stages else None
    if stages is not None:
        refs = [ref for parsed in sequences for ref in parsed.refs.stages]
        if pipeline is not None and pipeline.sample_stage is not None:
            refs.append(pipeline.sample_stage)
        for ref in refs:
            _check_stage(ref, stages)
    if pipeline is None:
        return
    for entry in pipeline.choices:
        target = by_id.get(entry.sequence)
        if target is None:
            if ids_known:
                _unknown_sequence(entry.node, entry.sequence, by_id)
        elif entry.stage not in target.stages:
            serves = ", ".join(target.stages) or "no stage"
            entry.node.error(
                f"found {entry.sequence!r}, which serves {serves}; expected a sequence "
                f"that lists {entry.stage!r} in its stages ({_where(target)})"
            )
    node, rule = pipeline.reengagement_node, pipeline.reengagement
    if rule is not None and node is not None and ids_known and rule.sequence not in by_id:
        _unknown_sequence(node, rule.sequence, by_id)
    built = [parsed.sequence for parsed in sequences if parsed.sequence is not None]
    if len(built) == len(sequences):  # else a broken file may hold the step named
        check_scoring_steps(pipeline.scoring_steps, send_steps(built))


def send_steps(sequences: Iterable[Sequence]) -> dict[str, str | None]:
    """Every step id: None for a send step (in any sequence), else what kind of step it is."""
    out: dict[str, str | None] = {}
    for sequence in sequences:
        for step in sequence.steps:
            if isinstance(step.action, Send):
                out[step.id] = None
            elif out.get(step.id, "") is not None:
                kind = KINDS.get(type(step.action), "exit")
                out.setdefault(step.id, f"a {kind} step of {sequence.id}")
    return out


def check_scoring_steps(refs: list[StepRef], steps: Mapping[str, str | None]) -> None:
    """A scoring rule's ``step`` names the email of a send step, in whichever sequence."""
    sends = [step for step, kind in steps.items() if kind is None]
    for ref in refs:
        if ref.target not in steps:
            hint = did_you_mean(ref.target, sends)
            ref.node.expected("the id of a send step in sequences/*.yaml", hint)
        elif (kind := steps[ref.target]) is not None:
            ref.node.error(
                f"found {ref.target!r}, {kind}; expected a send step "
                "(engagement is tracked per email sent)"
            )


def _unique_ids(sequences: list[ParsedSequence]) -> dict[str, ParsedSequence]:
    by_id: dict[str, ParsedSequence] = {}
    for parsed in sequences:
        if parsed.id is None or parsed.id_node is None:
            continue
        first = by_id.get(parsed.id)
        if first is None:
            by_id[parsed.id] = parsed
        else:
            parsed.id_node.expected(f"a sequence id of its own (also used in {_where(first)})")
    return by_id


def _check_stage(ref: StageRef, stages: tuple[str, ...]) -> None:
    if ref.stage not in stages:
        ref.node.expected("a stage: " + ", ".join(stages), did_you_mean(ref.stage, stages))


def _unknown_sequence(node: Node, name: str, by_id: dict[str, ParsedSequence]) -> None:
    known = ": " + ", ".join(sorted(by_id)) if by_id else " (there is none yet)"
    node.expected(f"a sequence id from sequences/*.yaml{known}", did_you_mean(name, by_id))


def _where(parsed: ParsedSequence) -> str:
    if parsed.id_node is None:
        return parsed.doc.file
    mark = parsed.doc.value_mark(parsed.id_node.path)
    return f"{parsed.doc.file}:{mark.line}:{mark.column}"
