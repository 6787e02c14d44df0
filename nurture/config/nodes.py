"""A cursor over a parsed YAML file and the small readers every part of the config uses.

Each reader takes a ``Node``, returns the checked value or None, and on None has already
recorded a problem saying what was found and what is expected. So parsing goes on after a
mistake and one run reports everything (yamllint), each at its own line and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from nurture.config.problems import ConfigProblem, did_you_mean
from nurture.config.yamldoc import Key, KeyPath, YamlDoc, format_path
from nurture.core.durations import DURATION_HINT, parse_duration


def describe(value: object) -> str:
    """How a found value reads in a message: ``'2 days'``, ``42``, ``a list``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return repr(value)


@dataclass(frozen=True)
class Node:
    """One value of a file, where it sits, and the list its problems go to."""

    doc: YamlDoc
    problems: list[ConfigProblem]
    path: KeyPath = ()
    value: object = None

    @property
    def where(self) -> str:
        return format_path(self.path)

    def child(self, key: Key) -> Node:
        value: object = None
        if isinstance(self.value, dict) and isinstance(key, str):
            value = self.value.get(key)
        elif isinstance(self.value, list) and isinstance(key, int) and key < len(self.value):
            value = self.value[key]
        return Node(self.doc, self.problems, (*self.path, key), value)

    def items(self) -> list[Node]:
        """The items of a list value (nothing if it is not a list)."""
        size = len(self.value) if isinstance(self.value, list) else 0
        return [self.child(i) for i in range(size)]

    def error(self, message: str, hint: str | None = None, *, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(self.path, message, hint, at_key=at_key))

    def expected(self, what: str, hint: str | None = None) -> None:
        """Record ``found <value>; expected <what>`` at this value."""
        self.error(f"found {describe(self.value)}; expected {what}", hint)

    def line(self) -> int:
        return self.doc.value_mark(self.path).line


def fields(
    node: Node, required: Iterable[str] = (), optional: Iterable[str] = (), *, what: str = ""
) -> dict[str, Node] | None:
    """A mapping with known keys: unknown keys get a did-you-mean, missing ones a problem.

    Returns the present known keys (even when some are missing), or None if not a mapping.
    """
    required, optional = list(required), list(optional)
    known = required + optional
    if not isinstance(node.value, dict):
        node.expected(what or "a mapping with keys " + ", ".join(known))
        return None
    present: dict[str, Node] = {}
    for key in node.value:
        child = node.child(key)
        if key in known:
            present[key] = child
        else:
            child.error("unknown key", did_you_mean(key, known), at_key=True)
    for key in required:
        if key not in node.value:
            node.error(f"missing key {key!r}", at_key=True)
    return present


def text(node: Node, what: str = "text") -> str | None:
    """Non-empty text."""
    if isinstance(node.value, str) and node.value.strip():
        return node.value
    node.expected(what)
    return None


def optional_text(node: Node | None, what: str = "text") -> str | None:
    if node is None or node.value is None:
        return None
    return text(node, what)


def integer(node: Node, minimum: int, what: str = "") -> int | None:
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    node.expected(what or f"a whole number of at least {minimum}")
    return None


def duration(node: Node) -> timedelta | None:
    if isinstance(node.value, str):
        try:
            return parse_duration(node.value)
        except ValueError:
            pass
    node.expected(DURATION_HINT)
    return None


def text_list(node: Node, item: str, *, allow_empty: bool = False) -> list[tuple[str, Node]] | None:
    """A list of texts (``item`` names one), each with its node for later checks."""
    if not isinstance(node.value, list) or (not node.value and not allow_empty):
        node.expected(f"a list of {item}s" + ("" if allow_empty else " (at least one)"))
        return None
    out: list[tuple[str, Node]] = []
    for child in node.items():
        value = text(child, f"a {item}")
        if value is not None:
            out.append((value, child))
    return out if len(out) == len(node.value) else None


def mapping(node: Node, what: str) -> dict[str, object] | None:
    """Any mapping (contents checked elsewhere, or not yet)."""
    if isinstance(node.value, dict):
        return node.value
    node.expected(what)
    return None


def choice(node: Node, options: Iterable[str], what: str) -> str | None:
    """One of a fixed set of names, with a did-you-mean for near misses."""
    options = list(options)
    if isinstance(node.value, str) and node.value in options:
        return node.value
    hint = did_you_mean(node.value, options) if isinstance(node.value, str) else None
    node.expected(what, hint)
    return None
