"""Sequence stepping: where an enrollment goes next, as a pure function.

``advance`` starts at the enrollment's current step and walks through steps that need no
time (branch, goal) until it reaches one that does something: a send, a wait, a wait for
an event, or the end. The service applies the decision in the transaction that records it;
guards (contact status, stage, send window, frequency cap) are the service's job.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from nurture.core.conditions import LeadFacts, evaluate
from nurture.core.sequence import AwaitEvent, Branch, Exit, Goal, Send, Sequence, Step, WaitFor
from nurture.core.waits import wait_until


@dataclass(frozen=True)
class EventSeen:
    """An engagement event of the lead: canonical type, the send step it concerns, when."""

    type: str
    step: str | None
    at: datetime


@dataclass(frozen=True)
class Situation:
    """Everything ``advance`` may look at."""

    now: datetime
    zone: ZoneInfo
    attributes: dict[str, object]  # lead fields and custom attributes (LeadProfile.facts())
    stage: str
    ladder: tuple[str, ...]
    started_at: datetime  # when the enrollment began
    entered_at: datetime | None  # when the current wait_for step was entered
    events: Seq[EventSeen] = ()


class Status(StrEnum):
    ACTIVE = "active"
    WAITING_FOR_EVENT = "waiting_for_event"
    COMPLETED = "completed"
    EXITED = "exited"


@dataclass(frozen=True)
class SendNow:
    step: Step
    send: Send
    then: str | None  # where the flow goes once the email is recorded


@dataclass(frozen=True)
class Sleep:
    resume_at: str | None  # the step to run when the wait is over (None: then complete)
    until: datetime


@dataclass(frozen=True)
class AwaitUntil:
    step_id: str
    until: datetime  # the timeout
    entered_at: datetime


@dataclass(frozen=True)
class Finish:
    status: Status
    reason: str


Decision = SendNow | Sleep | AwaitUntil | Finish


def advance(
    sequence: Sequence, position: str | None, status: Status, situation: Situation
) -> Decision:
    """Decide what the enrollment at ``position`` does now."""
    reached = goal_reached(sequence, situation)
    if reached:
        return Finish(Status.COMPLETED, reached)
    for _ in range(len(sequence.steps) + 1):
        if position is None:
            return Finish(Status.COMPLETED, "completed")
        step = sequence.step(position)
        action = step.action
        if isinstance(action, Send):
            return SendNow(step, action, sequence.next_after(step))
        if isinstance(action, WaitFor):
            return Sleep(
                sequence.next_after(step), wait_until(action, situation.zone, situation.now)
            )
        if isinstance(action, AwaitEvent):
            waiting = status is Status.WAITING_FOR_EVENT
            entered = situation.entered_at if waiting and situation.entered_at else situation.now
            follow = sequence.next_after(step)
            if waiting and _event_happened(action, entered, situation.events):
                position, status = action.on_event or follow, Status.ACTIVE
            elif waiting and situation.now >= entered + action.timeout:
                position, status = action.on_timeout or follow, Status.ACTIVE
            else:
                return AwaitUntil(step.id, entered + action.timeout, entered)
        elif isinstance(action, Branch):
            facts = LeadFacts(
                situation.attributes, frozenset((e.type, e.step) for e in situation.events)
            )
            chosen = next((c.goto for c in action.cases if evaluate(c.when, facts)), None)
            position = chosen or action.otherwise or sequence.next_after(step)
        elif isinstance(action, Goal):
            position = sequence.next_after(step)  # not met (checked above): go on
        elif isinstance(action, Exit):
            if action.reason == "completed":
                return Finish(Status.COMPLETED, "completed")
            return Finish(Status.EXITED, action.reason)
    raise RuntimeError(f"sequence {sequence.id!r} loops without waiting at {position!r}")


def goal_reached(sequence: Sequence, situation: Situation) -> str | None:
    """The reason text of the first goal the lead has met since enrolling, if any."""
    for goal in sequence.goals():
        if goal.event and any(
            e.type == goal.event and e.at >= situation.started_at for e in situation.events
        ):
            return f"goal: {goal.event}"
        if goal.stage and _at_or_past(situation.stage, goal.stage, situation.ladder):
            return f"goal: stage {goal.stage}"
    return None


def _at_or_past(stage: str, goal: str, ladder: tuple[str, ...]) -> bool:
    if stage == goal:
        return True
    return stage in ladder and goal in ladder and ladder.index(stage) > ladder.index(goal)


def _event_happened(action: AwaitEvent, entered: datetime, events: Seq[EventSeen]) -> bool:
    """A wait_for on a step's email counts engagement with that email whenever it came (the
    email went out before the wait began); otherwise only events since the wait began."""
    for event in events:
        if event.type != action.event:
            continue
        if action.step is not None:
            if event.step == action.step:
                return True
        elif event.at >= entered:
            return True
    return False
