"""Fixtures for the mail tests: a templates folder written per test, a renderer over it,
and a render context for a lead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nurture.core.funnel import Sender
from nurture.core.lead import LeadProfile
from nurture.core.sequence import Send
from nurture.mail import Links, RenderContext, RenderedEmail, Renderer

SENDER = Sender(
    from_address="maya@lumen-analytics.example",
    from_name="Maya Chen",
    reply_to="hello@lumen-analytics.example",
    postal_address="Lumen Analytics Inc., 548 Market St #4410, San Francisco, CA 94104",
)
LINKS = Links(
    unsubscribe_url="https://nurture.test/u/tok3n?a=1&b=2",
    preferences_url="https://nurture.test/p/tok3n",
)
JORDAN = LeadProfile(
    email="jordan.rivera@northwind.example",
    first_name="Jordan",
    last_name="Rivera",
    company="Northwind Traders",
    attributes={"company_size": 240},
)

LAYOUT = """\
<html><head><style>p { color: #111111; } .big { font-size: 20px; }</style></head>
<body>{% block content %}{% endblock %}{% include "partials/footer.html" %}</body></html>
"""
FOOTER = """\
<div class="footer"><p>{{ sender.postal_address }}</p>
<a href="{{ links.unsubscribe_url }}">Unsubscribe</a></div>
"""


class TemplatesDir:
    """A templates/ folder with a layout and footer; tests add the files they need."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.write("layouts/base.html", LAYOUT)
        self.write("partials/footer.html", FOOTER)

    def write(self, name: str, text: str) -> TemplatesDir:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return self

    def renderer(self) -> Renderer:
        return Renderer(self.root, SENDER, "https://nurture.test")


@pytest.fixture
def templates(tmp_path: Path) -> TemplatesDir:
    return TemplatesDir(tmp_path / "templates")


@pytest.fixture
def links() -> Links:
    return LINKS


@pytest.fixture
def jordan() -> LeadProfile:
    return JORDAN


@pytest.fixture
def make_context() -> Callable[..., RenderContext]:
    """make_context(lead=…, **fields): a RenderContext for step welcome of cold-education."""
    return context_for


def context_for(lead: LeadProfile = JORDAN, **overrides: object) -> RenderContext:
    values: dict[str, object] = {
        "lead": lead,
        "links": LINKS,
        "sequence_id": "cold-education",
        "sequence_name": "Cold",
        "step_id": "welcome",
        **overrides,
    }
    return RenderContext(**values)  # type: ignore[arg-type]


@pytest.fixture
def render(templates: TemplatesDir) -> Callable[..., RenderedEmail]:
    """render(template_text, subject=…, preheader=…, lead=…) with the file as t.html."""

    def _render(
        body: str,
        *,
        subject: str = "Hello",
        preheader: str | None = None,
        lead: LeadProfile = JORDAN,
        name: str = "t.html",
    ) -> RenderedEmail:
        templates.write(name, body)
        send = Send(template=name, subject=subject, preheader=preheader)
        return templates.renderer().render(send, context_for(lead))

    return _render
