"""Branch conditions (``when:``) from YAML into ``nurture.core.conditions``: an attribute
test (``{attribute: company_size, gte: 200}``, ``{attribute: title, matches: "head|vp"}``),
engagement with an earlier email (``{engaged: clicked, step: metrics-guide}``), or ``all`` /
``any`` / ``not`` of those."""

from __future__ import annotations

import re

from nurture.config.nodes import Node, fields, text
from nurture.config.problems import did_you_mean
from nurture.config.refs import Refs
from nurture.config.values import event
from nurture.core.conditions import AllOf, AnyOf, AttributeIs, Condition, Engaged, Not, Op

HEADS = ("attribute", "engaged", "all", "any", "not")
OPS = tuple(op.value for op in Op)
CONDITION_HINT = (
    "a condition such as {attribute: company_size, gte: 200}, "
    "{engaged: clicked, step: STEP}, {all: [...]}, {any: [...]} or {not: ...}"
)


def condition(node: Node, refs: Refs) -> Condition | None:
    if not isinstance(node.value, dict):
        node.expected(CONDITION_HINT)
        return None
    heads = [key for key in HEADS if key in node.value]
    if len(heads) != 1:
        for key in node.value:
            if key not in HEADS and key not in OPS and key != "step":
                node.child(key).error("unknown key", did_you_mean(key, HEADS), at_key=True)
        if len(heads) > 1:
            found = " and ".join(repr(h) for h in heads)
            node.child(heads[1]).error(
                f"found both {found}; expected one of {', '.join(HEADS)}", at_key=True
            )
        elif all(key in HEADS or key in OPS or key == "step" for key in node.value):
            node.expected(CONDITION_HINT)
        return None
    head = heads[0]
    if head == "attribute":
        return _attribute(node)
    if head == "engaged":
        return _engaged(node, refs)
    if head == "not":
        parts = fields(node, ["not"])
        inner = condition(parts["not"], refs) if parts and "not" in parts else None
        return Not(inner) if inner is not None else None
    return _group(node, head, refs)


def _attribute(node: Node) -> AttributeIs | None:
    parts = fields(node, ["attribute"], OPS)
    if parts is None:
        return None
    name = text(parts["attribute"], "a lead field or custom attribute name")
    ops = [key for key in OPS if key in parts]
    if not ops and isinstance(node.value, dict) and len(parts) != len(node.value):
        return None  # an unknown key, reported already, is the likely operator
    if len(ops) != 1:
        found = " and ".join(repr(op) for op in ops) if ops else "no operator"
        node.child("attribute").error(
            f"found {found}; expected exactly one operator: {', '.join(OPS)}", at_key=True
        )
        return None
    op = Op(ops[0])
    value_node = parts[op.value]
    value = value_node.value
    if op in (Op.IN, Op.NOT_IN) and not isinstance(value, list):
        value_node.expected(f"a list of values for {op.value}, such as [US, CA]")
        return None
    if op is Op.EXISTS and not isinstance(value, bool):
        value_node.expected("true or false")
        return None
    if op not in (Op.IN, Op.NOT_IN) and isinstance(value, list | dict):
        value_node.expected(f"a single value to compare with ({op.value})")
        return None
    if op is Op.MATCHES and not _regex(value_node):
        return None
    if name is None:
        return None
    return AttributeIs(name, op, tuple(value) if isinstance(value, list) else value)


def _regex(node: Node) -> bool:
    """``matches`` takes a regular expression (searched, ignoring case)."""
    if not isinstance(node.value, str) or not node.value:
        node.expected('a regular expression such as "head|director|vp"')
        return False
    try:
        re.compile(node.value, re.IGNORECASE)
    except re.error as exc:
        where = f" at position {exc.pos + 1}" if exc.pos is not None else ""
        node.error(
            f"found {node.value!r}, which is not a regular expression ({exc.msg}{where}); "
            'expected one such as "head|director|vp" (escape special characters with \\)'
        )
        return False
    return True


def _engaged(node: Node, refs: Refs) -> Engaged | None:
    parts = fields(node, ["engaged"], ["step"])
    if parts is None:
        return None
    name = event(parts["engaged"])
    step = None
    if "step" in parts:
        step_node = parts["step"]
        step = refs.step(step_node, text(step_node, "the id of a send step"), needs_send=True)
        if step is None:
            return None
    return Engaged(name, step) if name is not None else None


def _group(node: Node, head: str, refs: Refs) -> AllOf | AnyOf | None:
    parts = fields(node, [head])
    if parts is None:
        return None
    items = parts[head]
    if not isinstance(items.value, list) or not items.value:
        items.expected(f"a list of conditions for {head!r} (at least one)")
        return None
    parsed = [condition(item, refs) for item in items.items()]
    conditions = tuple(c for c in parsed if c is not None)
    if len(conditions) != len(parsed):
        return None
    return AllOf(conditions) if head == "all" else AnyOf(conditions)
