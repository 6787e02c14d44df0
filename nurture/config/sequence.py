"""One ``sequences/NAME.yaml`` file into a ``Sequence``, with the checks one file allows:
duplicate step ids, steps named but not defined, engagement on a step that sends nothing,
steps no path reaches, and loops that would spin without waiting."""

from __future__ import annotations

from dataclasses import dataclass, field

from nurture.config.nodes import Node, fields, text, text_list
from nurture.config.problems import ConfigProblem, did_you_mean
from nurture.config.refs import Refs
from nurture.config.steps import ParsedStep, parse_step
from nurture.config.yamldoc import YamlDoc
from nurture.core.sequence import Sequence, loops_without_wait, unreachable_steps

SEQUENCE_KEYS = ("id", "stages", "steps")
OPTIONAL_KEYS = ("name", "description")


@dataclass
class ParsedSequence:
    """A sequence file as far as it could be read; ``sequence`` is None if it has problems."""

    doc: YamlDoc
    id: str | None = None
    id_node: Node | None = None
    stages: tuple[str, ...] = ()
    refs: Refs = field(default_factory=Refs)
    sequence: Sequence | None = None


def parse_sequence(doc: YamlDoc, problems: list[ConfigProblem]) -> ParsedSequence:
    """Read one sequence file; its problems are appended to ``problems``."""
    root = Node(doc, problems, (), doc.data)
    parsed = ParsedSequence(doc)
    before = len(problems)
    parts = fields(root, SEQUENCE_KEYS, OPTIONAL_KEYS, what="a sequence: id, stages, steps")
    if parts is None:
        return parsed
    if "id" in parts:
        parsed.id_node = parts["id"]
        parsed.id = text(parts["id"], "a sequence id such as cold-education")
    name = text(parts["name"], "a name for people") if "name" in parts else ""
    description = text(parts["description"]) if "description" in parts else ""
    if "stages" in parts:
        listed = text_list(parts["stages"], "stage name", allow_empty=True) or []
        for stage, node in listed:
            parsed.refs.stage(node, stage)
        parsed.stages = tuple(stage for stage, _ in listed)
    steps = _steps(parts["steps"], parsed.refs) if "steps" in parts else []
    if len(problems) != before or parsed.id is None or name is None or description is None:
        return parsed
    built = tuple(s.step for s in steps if s.step is not None)
    sequence = Sequence(parsed.id, parsed.stages, built, name, description, doc.file)
    if _check_flow(sequence, steps, problems):
        parsed.sequence = sequence
    return parsed


def _steps(node: Node, refs: Refs) -> list[ParsedStep]:
    if not isinstance(node.value, list) or not node.value:
        node.expected("a list of steps (at least one), each with an id and a kind")
        return []
    steps = [parse_step(item, refs) for item in node.items()]
    _check_ids(steps)
    _check_refs(steps, refs)
    return steps


def _check_ids(steps: list[ParsedStep]) -> None:
    first: dict[str, ParsedStep] = {}
    for step in steps:
        if step.id is None:
            continue
        if step.id in first:
            line = first[step.id].id_node.line()
            step.id_node.error(
                f"found step id {step.id!r} again (first at line {line}); "
                "expected each step id once"
            )
        else:
            first[step.id] = step


def _check_refs(steps: list[ParsedStep], refs: Refs) -> None:
    kinds = {step.id: step.kind for step in reversed(steps) if step.id is not None}
    for ref in refs.steps:
        if ref.target not in kinds:
            ref.node.expected("the id of a step in this sequence", did_you_mean(ref.target, kinds))
        elif ref.needs_send and kinds[ref.target] not in (None, "send"):
            ref.node.error(
                f"found {ref.target!r}, a {kinds[ref.target]} step; expected a send step "
                "(engagement is tracked per email sent)"
            )


def _check_flow(sequence: Sequence, steps: list[ParsedStep], problems: list[ConfigProblem]) -> bool:
    """Unreachable steps and loops without a wait; True if the flow is sound."""
    nodes = {step.id: step.id_node for step in steps if step.id is not None}
    before = len(problems)
    for step in unreachable_steps(sequence):
        nodes[step.id].error(
            f"found step {step.id!r} that no path reaches; "
            "expected a goto, on_event, on_timeout or branch leading to it (or remove it)"
        )
    for cycle in loops_without_wait(sequence):
        nodes[cycle[0]].error(
            f"found a loop with no wait: {' -> '.join(cycle)}; "
            "expected a wait or wait_for step on it, or it would send without pause"
        )
    return len(problems) == before
