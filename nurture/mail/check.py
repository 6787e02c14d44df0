"""Validation's template check: every send step must render for the funnel's sample lead.

``nurture.config`` calls ``check_templates`` after loading the sequences and maps each
``TemplateFinding`` to the YAML line of the step's ``template``, ``subject`` or
``preheader`` key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nurture.core.funnel import Funnel
from nurture.core.lead import LeadProfile
from nurture.core.sequence import Send
from nurture.mail.context import RenderContext, guess_account
from nurture.mail.errors import RenderError
from nurture.mail.render import Renderer

CHECK_BASE_URL = "https://nurture.invalid"

FALLBACK_LEAD = LeadProfile(
    email="sam.taylor@example.com",
    first_name="Sam",
    last_name="Taylor",
    title="Product Manager",
    company="Example Co",
    country="US",
)


@dataclass(frozen=True)
class TemplateFinding:
    """A template problem found for one send step; config maps it to the YAML location."""

    sequence_id: str
    step_id: str
    field: str  # "template", "subject" or "preheader"
    message: str
    hint: str | None = None


def sample_profile(sample_lead: Mapping[str, object]) -> LeadProfile:
    """The funnel's sample persona, or a stock one when the funnel gives none."""
    if sample_lead:
        try:
            return LeadProfile.from_mapping(sample_lead)
        except TypeError:
            pass  # config reports the malformed sample_lead itself
    return FALLBACK_LEAD


def check_templates(funnel: Funnel, templates_dir: Path) -> list[TemplateFinding]:
    """Render every send step of every sequence for the sample lead; one finding per
    failing part (template file, subject, preheader) of each step."""
    renderer = Renderer(templates_dir, funnel.sender, CHECK_BASE_URL)
    lead = sample_profile(funnel.sample_lead)
    account_name, account_domain = guess_account(lead)
    findings: list[TemplateFinding] = []
    for sequence in funnel.sequences.values():
        for step in sequence.sends():
            assert isinstance(step.action, Send)
            context = RenderContext.for_step(
                lead,
                sequence,
                step.id,
                renderer.preview_links(),
                account_name=account_name,
                account_domain=account_domain,
            )
            findings.extend(
                _finding(sequence.id, step.id, error)
                for error in renderer.check(step.action, context)
            )
    return findings


def _finding(sequence_id: str, step_id: str, error: RenderError) -> TemplateFinding:
    where = f"{error.template}:{error.line}: " if error.line else ""
    if error.part == "template" and not error.line:
        where = f"{error.template}: " if error.template not in error.reason else ""
    return TemplateFinding(
        sequence_id=sequence_id,
        step_id=step_id,
        field=error.part,
        message=f"{where}{error.reason}",
        hint=error.hint,
    )
