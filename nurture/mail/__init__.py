"""Email: Jinja2 rendering (sandboxed, strict, CSS inlined, text part), template checks.

    renderer = Renderer(templates_dir, funnel.sender, base_url)   # once per loaded funnel
    email = renderer.render(send, RenderContext.for_step(lead, sequence, step_id, links))

``email`` is a ``RenderedEmail`` (subject, preheader, html, text); failures raise
``RenderError``, a ``TemplateError`` naming the template file and line.
"""

from nurture.mail.check import TemplateFinding, check_templates
from nurture.mail.context import Links, RenderContext, preview_links
from nurture.mail.errors import RenderError
from nurture.mail.render import RenderedEmail, Renderer
from nurture.mail.text import html_to_text

__all__ = [
    "Links",
    "RenderContext",
    "RenderError",
    "RenderedEmail",
    "Renderer",
    "TemplateFinding",
    "check_templates",
    "html_to_text",
    "preview_links",
]
