"""Template findings (``nurture.mail.check``) placed where the marketer wrote the send step.

The mail package knows Jinja2 and the sample lead; it reports by sequence, step and field.
This module turns that into file:line:column at ``steps[i].send.<field>``.
"""

from __future__ import annotations

from pathlib import Path

from nurture.config.problems import ConfigProblem
from nurture.config.sequence import ParsedSequence
from nurture.core.funnel import Funnel
from nurture.mail.check import TemplateFinding, check_templates


def template_problems(
    funnel: Funnel, funnel_dir: Path, sequences: list[ParsedSequence]
) -> list[ConfigProblem]:
    findings = check_templates(funnel, funnel_dir / "templates")
    by_id = {parsed.id: parsed for parsed in sequences if parsed.id is not None}
    return [_place(finding, by_id.get(finding.sequence_id)) for finding in findings]


def _place(finding: TemplateFinding, parsed: ParsedSequence | None) -> ConfigProblem:
    if parsed is None:  # a finding about a sequence we did not load: say so plainly
        where = f"{finding.sequence_id}.{finding.step_id}.{finding.field}"
        return ConfigProblem("templates", 1, 1, where, finding.message, finding.hint)
    doc = parsed.doc
    index = _step_index(parsed, finding.step_id)
    if index is None:
        path: tuple[str | int, ...] = ()
    else:
        path = ("steps", index, "send")
        if (*path, finding.field) in doc.values:
            path = (*path, finding.field)
    return doc.problem(path, finding.message, finding.hint)


def _step_index(parsed: ParsedSequence, step_id: str) -> int | None:
    if parsed.sequence is None:
        return None
    for index, step in enumerate(parsed.sequence.steps):
        if step.id == step_id:
            return index
    return None
