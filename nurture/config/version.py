"""The funnel's version: a SHA-256 over every file it is made of.

Each send records it, so a report can say which wording a lead got. Any byte changed in
nurture.yaml, a sequence or a template (layouts and partials too) gives a new version;
nothing else (timestamps, file order on disk, unrelated files) does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def funnel_files(directory: Path) -> list[Path]:
    """nurture.yaml, sequences/*.yaml and every file under templates/, sorted."""
    files = [directory / "nurture.yaml", *(directory / "sequences").glob("*.yaml")]
    templates = directory / "templates"
    files += [path for path in templates.rglob("*") if path.is_file()]
    return sorted(path for path in files if path.is_file())


def funnel_version(directory: Path) -> str:
    digest = hashlib.sha256()
    entries = sorted((p.relative_to(directory).as_posix(), p) for p in funnel_files(directory))
    for name, path in entries:
        data = path.read_bytes()
        # Length-prefixed, so no two different sets of files can hash the same bytes.
        for part in (name.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()
