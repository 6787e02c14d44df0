"""One step of a sequence from YAML into ``nurture.core.sequence.Step``.

A step has an ``id``, exactly one kind key and, for kinds that simply continue, an optional
``goto``. Step ids it names are recorded in ``Refs`` and resolved once the whole file is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from nurture.config.conditions import condition
from nurture.config.nodes import Node, duration, fields, integer, optional_text, text
from nurture.config.problems import did_you_mean
from nurture.config.refs import Refs
from nurture.config.values import event, until
from nurture.core.sequence import (
    AwaitEvent,
    Branch,
    Case,
    Exit,
    Goal,
    Send,
    Step,
    StepAction,
    WaitFor,
)

KINDS = ("send", "wait", "wait_for", "branch", "goal", "exit")
STEP_KEYS = ("id", *KINDS, "goto")
KINDS_HINT = "exactly one of " + ", ".join(KINDS)
WAIT_HINT = 'a duration such as 2d, {business_days: 3} or {until: "tue 10:00"}'
NO_GOTO = {
    "exit": "found goto on an exit step; expected none (an exit ends the enrollment)",
    "branch": "found goto on a branch step; expected 'otherwise' to say where to go "
    "when no case matches",
    "wait_for": "found goto on a wait_for step; expected 'on_event' / 'on_timeout' "
    "to say where to go",
}


@dataclass(frozen=True)
class ParsedStep:
    """What the checks need even when the step is broken: its id and its kind."""

    id: str | None
    id_node: Node
    kind: str | None
    step: Step | None  # None when any part of the step has a problem


def parse_step(node: Node, refs: Refs) -> ParsedStep:
    id_node = node.child("id")
    if not isinstance(node.value, dict):
        node.expected("a step: a mapping with an id and " + KINDS_HINT)
        return ParsedStep(None, id_node, None, None)
    before = len(node.problems)
    keys = list(node.value)
    for key in keys:
        if key not in STEP_KEYS:
            node.child(key).error("unknown key", did_you_mean(key, STEP_KEYS), at_key=True)
    step_id = text(id_node, "a step id such as welcome") if "id" in keys else None
    if "id" not in keys:
        node.error("missing key 'id'", at_key=True)
    kinds = [key for key in keys if key in KINDS]
    if len(kinds) > 1:
        found = " and ".join(repr(k) for k in kinds)
        node.child(kinds[1]).error(f"found {found}; expected {KINDS_HINT}", at_key=True)
    elif not kinds and not any(did_you_mean(k, KINDS) for k in keys if k not in STEP_KEYS):
        node.error(f"found no step kind; expected {KINDS_HINT}", at_key=True)
    kind = kinds[0] if len(kinds) == 1 else None
    goto = None
    if "goto" in keys:
        goto_node = node.child("goto")
        if kind in NO_GOTO:
            goto_node.error(NO_GOTO[kind], at_key=True)
        goto = refs.step(goto_node, text(goto_node, "the id of a step"))
    action = _action(node.child(kind), kind, refs) if kind else None
    if action is None or step_id is None or len(node.problems) != before:
        return ParsedStep(step_id, id_node, kind, None)
    return ParsedStep(step_id, id_node, kind, Step(step_id, action, goto))


def _action(node: Node, kind: str, refs: Refs) -> StepAction | None:
    if kind == "send":
        return _send(node)
    if kind == "wait":
        return _wait(node)
    if kind == "wait_for":
        return _wait_for(node, refs)
    if kind == "branch":
        return _branch(node, refs)
    if kind == "goal":
        return _goal(node, refs)
    reason = text(node, "a reason such as completed")
    return Exit(reason) if reason is not None else None


def _send(node: Node) -> Send | None:
    parts = fields(node, ["template", "subject"], ["preheader"])
    if parts is None or "template" not in parts or "subject" not in parts:
        return None
    template = text(parts["template"], "a template path such as cold/welcome.html")
    subject = text(parts["subject"], "a subject line")
    preheader = optional_text(parts.get("preheader"), "a preheader line")
    if template is None or subject is None:
        return None
    return Send(template, subject, preheader)


def _wait(node: Node) -> WaitFor | None:
    if isinstance(node.value, str):
        delay = duration(node)
        return WaitFor(duration=delay) if delay is not None else None
    if not isinstance(node.value, dict):
        node.expected(WAIT_HINT)
        return None
    parts = fields(node, [], ["business_days", "until"])
    if parts is None:
        return None
    if len(parts) != 1:
        if len(parts) == len(node.value):  # else an unknown key explains it
            node.expected("exactly one of business_days, until")
        return None
    if "business_days" in parts:
        days = integer(parts["business_days"], 1, "a whole number of business days, at least 1")
        return WaitFor(business_days=days) if days is not None else None
    parsed = until(parts["until"])
    if parsed is None:
        return None
    weekday, at = parsed
    return WaitFor(weekday=weekday, at=at)


def _wait_for(node: Node, refs: Refs) -> AwaitEvent | None:
    parts = fields(node, ["event", "timeout"], ["step", "on_event", "on_timeout"])
    if parts is None or "event" not in parts or "timeout" not in parts:
        return None
    name = event(parts["event"])
    timeout = duration(parts["timeout"])
    targets: dict[str, str | None] = {}
    for key in ("step", "on_event", "on_timeout"):
        if key in parts:
            target = text(parts[key], "the id of a " + ("send step" if key == "step" else "step"))
            targets[key] = refs.step(parts[key], target, needs_send=key == "step")
    if name is None or timeout is None or None in targets.values():
        return None
    return AwaitEvent(
        name,
        timeout,
        step=targets.get("step"),
        on_event=targets.get("on_event"),
        on_timeout=targets.get("on_timeout"),
    )


def _branch(node: Node, refs: Refs) -> Branch | None:
    parts = fields(node, ["cases"], ["otherwise"])
    if parts is None or "cases" not in parts:
        return None
    cases_node = parts["cases"]
    if not isinstance(cases_node.value, list) or not cases_node.value:
        cases_node.expected("a list of cases, each {when: CONDITION, goto: STEP}")
        return None
    cases = [_case(item, refs) for item in cases_node.items()]
    otherwise = None
    if "otherwise" in parts:
        otherwise = refs.step(parts["otherwise"], text(parts["otherwise"], "the id of a step"))
        if otherwise is None:
            return None
    done = tuple(case for case in cases if case is not None)
    return Branch(done, otherwise) if len(done) == len(cases) else None


def _case(node: Node, refs: Refs) -> Case | None:
    parts = fields(node, ["when", "goto"], what="a case: {when: CONDITION, goto: STEP}")
    if parts is None or "when" not in parts or "goto" not in parts:
        return None
    when = condition(parts["when"], refs)
    goto = refs.step(parts["goto"], text(parts["goto"], "the id of a step"))
    return Case(when, goto) if when is not None and goto is not None else None


def _goal(node: Node, refs: Refs) -> Goal | None:
    parts = fields(node, [], ["event", "stage"], what="a goal: {event: EVENT} or {stage: STAGE}")
    if parts is None:
        return None
    if len(parts) != 1:
        if isinstance(node.value, dict) and len(parts) == len(node.value):
            node.expected("exactly one of event, stage")
        return None
    if "event" in parts:
        name = event(parts["event"])
        return Goal(event=name) if name is not None else None
    stage = refs.stage(parts["stage"], text(parts["stage"], "a stage name such as warm"))
    return Goal(stage=stage) if stage is not None else None
