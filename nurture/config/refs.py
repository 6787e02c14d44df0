"""Names a file mentions that another part defines: step ids and stages.

Parsing records each mention with its node; the checks resolve them once every step id and
every stage is known, so a mistake is reported where the name is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nurture.config.nodes import Node


@dataclass(frozen=True)
class StepRef:
    """A step id named by ``goto``, ``on_event``, ``wait_for.step``, ``engaged ... step``..."""

    target: str
    node: Node
    needs_send: bool = False  # engagement is tracked per email, so it must name a send step


@dataclass(frozen=True)
class StageRef:
    """A stage named by a sequence's ``stages`` or a ``goal``; checked against nurture.yaml."""

    stage: str
    node: Node


@dataclass
class Refs:
    steps: list[StepRef] = field(default_factory=list)
    stages: list[StageRef] = field(default_factory=list)

    def step(self, node: Node, target: str | None, *, needs_send: bool = False) -> str | None:
        if target is not None:
            self.steps.append(StepRef(target, node, needs_send))
        return target

    def stage(self, node: Node, stage: str | None) -> str | None:
        if stage is not None:
            self.stages.append(StageRef(stage, node))
        return stage
