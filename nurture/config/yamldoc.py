"""YAML to plain Python values that remember where each key and value was written.

PyYAML's constructors forget positions, so we compose nodes (which carry start marks) and
convert them ourselves. That also lets us refuse duplicate keys (PyYAML keeps the last one
silently) and resolve scalars by the YAML 1.2 core schema: ``NO`` stays the text "NO",
``10:00`` stays "10:00" rather than the base-60 integer 600, and dates stay text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from nurture.config.problems import ConfigProblem

Key = str | int
KeyPath = tuple[Key, ...]

MAX_NODES = 100_000  # aliases can multiply a small file (the "billion laughs")

_TAG = "tag:yaml.org,2002:"


class _CoreResolver(BaseResolver):
    """YAML 1.2 core schema: only true/false are booleans, no base-60, no timestamps."""


for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^<<$", "<"),
):
    _CoreResolver.add_implicit_resolver(_TAG + _tag, re.compile(_pattern), list(_first))


class _Loader(Reader, Scanner, Parser, Composer, _CoreResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column."""

    line: int
    column: int


def format_path(path: KeyPath) -> str:
    """``("steps", 3, "wait")`` -> ``steps[3].wait``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass
class YamlDoc:
    """One parsed file: its plain data and the marks of every key and value in it."""

    file: str  # as shown in problems
    data: object = None
    keys: dict[KeyPath, Mark] = field(default_factory=dict)
    values: dict[KeyPath, Mark] = field(default_factory=dict)
    broken: bool = False  # not YAML at all: nothing in it can be checked further

    def value_mark(self, path: KeyPath) -> Mark:
        """Where the value at ``path`` starts, or its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return mark
        return Mark(1, 1)

    def key_mark(self, path: KeyPath) -> Mark:
        """Where the key of ``path`` is written (list items: the item itself)."""
        return self.keys.get(path) or self.value_mark(path)

    def problem(
        self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False
    ) -> ConfigProblem:
        mark = self.key_mark(path) if at_key else self.value_mark(path)
        return ConfigProblem(self.file, mark.line, mark.column, format_path(path), message, hint)


def load_yaml(path: Path, label: str) -> tuple[YamlDoc, list[ConfigProblem]]:
    """Read and convert one file; syntax errors and duplicate keys come back as problems."""
    doc = YamlDoc(label, broken=True)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(raw[: exc.start].decode("utf-8", "replace"))
        found = f"found byte 0x{raw[exc.start]:02x}; expected UTF-8 text"
        return doc, [ConfigProblem(label, line, column, "", found)]
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return doc, [_syntax_problem(label, exc)]
    except yaml.reader.ReaderError as exc:
        line, column = _position(text[: exc.position])
        message = f"found character {exc.character!r} that YAML does not allow; expected text"
        return doc, [ConfigProblem(label, line, column, "", message)]
    finally:
        loader.dispose()
    doc.broken = False
    converter = _Converter(doc)
    if root is not None:
        doc.data = converter.convert(root, ())
    return doc, converter.problems


def _position(before: str) -> tuple[int, int]:
    lines = before.split("\n")
    return len(lines), len(lines[-1]) + 1


def _syntax_problem(label: str, exc: yaml.MarkedYAMLError) -> ConfigProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    found = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return ConfigProblem(label, line, column, "", f"invalid YAML: {found}{context}")


class _Converter:
    """Turns composed nodes into dicts, lists and scalars, recording marks on the way."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.problems: list[ConfigProblem] = []
        self.count = 0
        self.active: set[int] = set()  # nodes being converted: a recursive alias would loop

    def fail(self, node: Node, path: KeyPath, message: str) -> None:
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1
        self.problems.append(ConfigProblem(self.doc.file, line, column, format_path(path), message))

    def convert(self, node: Node, path: KeyPath) -> object:
        self.doc.values[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        self.count += 1
        if self.count > MAX_NODES or id(node) in self.active:
            if self.count <= MAX_NODES + 1:
                self.fail(node, path, "found a recursive or oversized alias; expected plain data")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, ScalarNode):
                return self.scalar(node, path)
            if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode) and node.tag == _TAG + "map":
                return self.mapping(node, path)
            self.fail(node, path, f"found tag {node.tag!r}; expected plain YAML without tags")
            return None
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, object]:
        out: dict[str, object] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, path, "found a complex key; expected a plain name")
                continue
            key = key_node.value
            if key_node.tag == _TAG + "merge":
                self.fail(key_node, path, "found a merge key (<<); expected the keys written out")
                continue
            if key in first_line:
                message = f"found key {key!r} again (first at line {first_line[key]}); "
                self.fail(key_node, (*path, key), message + "expected each key once")
                continue
            first_line[key] = key_node.start_mark.line + 1
            mark = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            self.doc.keys[(*path, key)] = mark
            out[key] = self.convert(value_node, (*path, key))
        return out

    def scalar(self, node: ScalarNode, path: KeyPath) -> object:
        text, tag = node.value, node.tag.removeprefix(_TAG)
        try:
            if tag == "str":
                return text
            if tag == "null":
                return None
            if tag == "bool":
                return {"true": True, "false": False}[text.lower()]
            if tag == "int":
                return _to_int(text)
            if tag == "float":
                return _to_float(text)
        except (KeyError, ValueError):
            self.fail(node, path, f"found {text!r}; expected a valid !!{tag}")
            return None
        self.fail(node, path, f"found tag {node.tag!r}; expected plain YAML without tags")
        return None


def _to_int(text: str) -> int:
    cleaned = text.replace("_", "")
    if cleaned.startswith(("0o", "0x")):
        return int(cleaned, 8 if cleaned[1] == "o" else 16)
    return int(cleaned, 10)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text)
