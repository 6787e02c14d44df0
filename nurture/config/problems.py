"""A config problem names the file, the 1-based line and column, the key path, what was
found and what is expected, and a did-you-mean hint where one helps (yamllint/cfgv style)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    column: int
    path: str  # key path such as ``steps[2].wait_for.timeout``
    message: str  # what was found and what is expected
    hint: str | None = None  # did-you-mean suggestion

    def format(self) -> str:
        hint = f" (did you mean {self.hint!r}?)" if self.hint else ""
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: error: {where}{self.message}{hint}"

    def github(self) -> str:
        """A GitHub Actions annotation line."""
        hint = f" (did you mean {self.hint!r}?)" if self.hint else ""
        where = f"{self.path}: " if self.path else ""
        text = f"{where}{self.message}{hint}"
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::error file={self.file},line={self.line},col={self.column}::{text}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None
