"""The example funnel (nurture.yaml, sequences/, templates/ at the repository root): every send
step renders for the sample lead and for a lead we know almost nothing about."""

from pathlib import Path

import pytest

from nurture.config.load import load_funnel, validate_funnel
from nurture.core.lead import LeadProfile
from nurture.core.sequence import Send, Sequence, Step
from nurture.mail import Links, RenderContext, RenderedEmail, Renderer
from nurture.mail.check import sample_profile
from nurture.mail.context import guess_account

REPO = Path(__file__).resolve().parents[2]
FUNNEL = load_funnel(REPO)
SEND_STEPS = [
    pytest.param(sequence, step, id=f"{sequence.id}/{step.id}")
    for sequence in FUNNEL.sequences.values()
    for step in sequence.sends()
]
NOBODY = LeadProfile(email="someone@gmail.example")  # no name, company, attributes or account


@pytest.fixture(scope="module")
def renderer():
    return Renderer(REPO / "templates", FUNNEL.sender, "https://nurture.test")


def render(
    renderer: Renderer,
    sequence: Sequence,
    step: Step,
    lead: LeadProfile,
    account: tuple[str | None, str | None] = (None, None),
) -> tuple[RenderedEmail, Links]:
    assert isinstance(step.action, Send)
    links = renderer.preview_links()
    context = RenderContext.for_step(
        lead, sequence, step.id, links, account_name=account[0], account_domain=account[1]
    )
    return renderer.render(step.action, context), links


def test_the_example_funnel_is_valid():
    funnel, problems = validate_funnel(REPO)

    assert [p.format() for p in problems] == []
    assert funnel is not None
    assert set(funnel.sequences) == {
        "cold-education",
        "warm-evaluation",
        "recycled-nurture",
        "sunset-reengagement",
    }


@pytest.mark.parametrize(("sequence", "step"), SEND_STEPS)
def test_every_send_step_renders_for_the_sample_lead(renderer, sequence, step):
    lead = sample_profile(FUNNEL.sample_lead)

    email, links = render(renderer, sequence, step, lead, guess_account(lead))

    assert email.subject and "None" not in email.subject
    assert email.html.count(links.unsubscribe_url) == 1, "the footer appears exactly once"
    assert FUNNEL.sender.postal_address in email.html
    assert links.unsubscribe_url in email.text
    assert FUNNEL.sender.postal_address in email.text
    for part in (email.html, email.text):
        assert "{{" not in part and "{%" not in part and "None" not in part
    assert (lead.first_name or "") in email.text


@pytest.mark.parametrize(("sequence", "step"), SEND_STEPS)
def test_every_send_step_renders_for_a_lead_without_a_name(renderer, sequence, step):
    email, links = render(renderer, sequence, step, NOBODY)

    for part in (email.subject, email.preheader, email.html, email.text):
        assert "None" not in part
        assert " ," not in part and ", ?" not in part and ",?" not in part
    assert not email.subject.endswith(",")
    assert links.unsubscribe_url in email.text


def test_the_soft_ask_uses_its_written_text_part(renderer):
    sequence = FUNNEL.sequences["cold-education"]

    email, _ = render(renderer, sequence, sequence.step("soft-ask"), NOBODY)

    assert (REPO / "templates" / "cold" / "soft-ask.txt").is_file()
    assert email.text.startswith("Hi there,\n\nOver the last few weeks")
    assert email.text.rstrip().endswith(FUNNEL.sender.postal_address)


def test_the_preheader_is_hidden_in_html_and_left_out_of_the_text(renderer):
    sequence = FUNNEL.sequences["cold-education"]

    email, _ = render(renderer, sequence, sequence.step("welcome"), NOBODY)

    assert email.preheader == "Three short reads we wish we had on day one."
    assert "display:none" in email.html.replace(" ", "")
    assert email.preheader not in email.text
