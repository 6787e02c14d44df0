"""The funnel's version: a SHA-256 over every file it is made of.

Each send records it, so a report can say which wording a lead got. Any byte changed in
nurture.yaml, the scoring file it names (``scoring: {file: ...}``), a sequence or a template
(layouts and partials too) gives a new version; nothing else (timestamps, file order on disk,
unrelated files) does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from nurture.config.yamldoc import load_yaml


def funnel_files(directory: Path) -> list[Path]:
    """nurture.yaml, its scoring file, sequences/*.yaml and every file under templates/."""
    files = [directory / "nurture.yaml", *(directory / "sequences").glob("*.yaml")]
    scoring = scoring_file(directory)
    if scoring is not None:
        files.append(scoring)
    templates = directory / "templates"
    files += [path for path in templates.rglob("*") if path.is_file()]
    return sorted({path for path in files if path.is_file()})


def scoring_file(directory: Path) -> Path | None:
    """The file nurture.yaml's ``scoring: {file: NAME}`` names, if it lies in the folder."""
    pipeline = directory / "nurture.yaml"
    if not pipeline.is_file():
        return None
    doc, _ = load_yaml(pipeline, "nurture.yaml")
    scoring = doc.data.get("scoring") if isinstance(doc.data, dict) else None
    name = scoring.get("file") if isinstance(scoring, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        inside = (directory / name).resolve().relative_to(directory.resolve())
    except ValueError:
        return None
    return directory / inside


def funnel_version(directory: Path) -> str:
    return files_version(directory, funnel_files(directory))


def files_version(directory: Path, files: Iterable[Path]) -> str:
    """SHA-256 over each file's path (relative to ``directory``) and content."""
    digest = hashlib.sha256()
    entries = sorted((p.relative_to(directory).as_posix(), p) for p in files)
    for name, path in entries:
        data = path.read_bytes()
        # Length-prefixed, so no two different sets of files can hash the same bytes.
        for part in (name.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()
