"""A sequence: the steps one stage's leads go through, addressed by id.

Step kinds: send, wait, wait_for, branch, goal, exit. After a step the lead moves to the
step's ``goto`` if given, else to the next step in the file; past the last step the
enrollment completes. ``successors`` gives the step graph that validation walks
(unknown targets, unreachable steps, loops without a wait).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Union

from nurture.core.conditions import Condition


@dataclass(frozen=True)
class Send:
    """Send one marketing email rendered from ``template``."""

    template: str
    subject: str
    preheader: str | None = None


@dataclass(frozen=True)
class WaitFor:
    """Fixed delay (``duration``), business days, or until a weekday/time in the lead's zone."""

    duration: timedelta | None = None
    business_days: int | None = None
    weekday: int | None = None  # 0 = Monday; None with ``at``: the next such local time
    at: time | None = None


@dataclass(frozen=True)
class AwaitEvent:
    """Wait until the lead does ``event`` (optionally on the email of step ``step``),
    or until ``timeout``; go to ``on_event`` / ``on_timeout`` (None = next step)."""

    event: str
    timeout: timedelta
    step: str | None = None
    on_event: str | None = None
    on_timeout: str | None = None


@dataclass(frozen=True)
class Case:
    when: Condition
    goto: str


@dataclass(frozen=True)
class Branch:
    """First case whose condition holds wins; else ``otherwise`` (None = next step)."""

    cases: tuple[Case, ...]
    otherwise: str | None = None


@dataclass(frozen=True)
class Goal:
    """Ends the enrollment early once the lead does ``event`` or reaches ``stage``;
    when the flow reaches this step and the goal is not met, it goes on."""

    event: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Exit:
    reason: str = "completed"


StepAction = Union[Send, WaitFor, AwaitEvent, Branch, Goal, Exit]  # noqa: UP007

WAITING_KINDS = (WaitFor, AwaitEvent)


@dataclass(frozen=True)
class Step:
    id: str
    action: StepAction
    goto: str | None = None

    @property
    def kind(self) -> str:
        return KIND_NAMES[type(self.action)]


KIND_NAMES: dict[type, str] = {
    Send: "send",
    WaitFor: "wait",
    AwaitEvent: "wait_for",
    Branch: "branch",
    Goal: "goal",
    Exit: "exit",
}


@dataclass(frozen=True)
class Sequence:
    id: str
    stages: tuple[str, ...]
    steps: tuple[Step, ...]
    name: str = ""
    description: str = ""
    source: str = ""  # file it came from, for messages
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({step.id: i for i, step in enumerate(self.steps)})

    @property
    def first_step(self) -> Step:
        return self.steps[0]

    def step(self, step_id: str) -> Step:
        return self.steps[self._index[step_id]]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in file order, or None at the end."""
        i = self._index[step_id] + 1
        return self.steps[i].id if i < len(self.steps) else None

    def next_after(self, step: Step) -> str | None:
        """Where the flow goes after a step that simply continues."""
        return step.goto if step.goto is not None else self.following(step.id)

    def goals(self) -> tuple[Goal, ...]:
        return tuple(s.action for s in self.steps if isinstance(s.action, Goal))

    def sends(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if isinstance(s.action, Send))


def successors(sequence: Sequence, step: Step) -> list[str | None]:
    """Every place the flow may go after ``step``; None means the enrollment completes."""
    action = step.action
    if isinstance(action, Exit):
        return []
    if isinstance(action, AwaitEvent):
        follow = sequence.next_after(step)
        return [action.on_event or follow, action.on_timeout or follow]
    if isinstance(action, Branch):
        otherwise = action.otherwise or sequence.next_after(step)
        return [case.goto for case in action.cases] + [otherwise]
    return [sequence.next_after(step)]


def referenced_ids(step: Step) -> list[str]:
    """Step ids this step names explicitly (to check they exist)."""
    ids = [step.goto] if step.goto else []
    action = step.action
    if isinstance(action, AwaitEvent):
        ids += [i for i in (action.on_event, action.on_timeout, action.step) if i]
    if isinstance(action, Branch):
        ids += [case.goto for case in action.cases]
        ids += [action.otherwise] if action.otherwise else []
    return ids


def unreachable_steps(sequence: Sequence) -> list[Step]:
    seen: set[str] = set()
    stack = [sequence.first_step.id]
    while stack:
        current = stack.pop()
        if current in seen or not sequence.has_step(current):
            continue
        seen.add(current)
        stack.extend(s for s in successors(sequence, sequence.step(current)) if s)
    return [s for s in sequence.steps if s.id not in seen]


def loops_without_wait(sequence: Sequence) -> list[list[str]]:
    """Cycles in the step graph on which no step waits: they would spin forever."""
    graph = {
        s.id: [n for n in successors(sequence, s) if n and sequence.has_step(n)]
        for s in sequence.steps
        if not isinstance(s.action, WAITING_KINDS)
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue  # a waiting step breaks the cycle
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
    return cycles
