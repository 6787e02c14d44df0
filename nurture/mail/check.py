"""(placeholder: the template checks are being written; see the interface below)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nurture.core.funnel import Funnel


@dataclass(frozen=True)
class TemplateFinding:
    """A template problem found for one send step; config maps it to the YAML location."""

    sequence_id: str
    step_id: str
    field: str  # "template", "subject" or "preheader"
    message: str
    hint: str | None = None


def check_templates(funnel: Funnel, templates_dir: Path) -> list[TemplateFinding]:
    return []
