"""Render one send step for one lead: subject, preheader, HTML (CSS inlined) and text.

    renderer = Renderer(funnel_dir / "templates", funnel.sender, settings.base_url)
    email = renderer.render(step.action, RenderContext.for_step(lead, sequence, step.id, links))

A ``Renderer`` is built once per loaded funnel and reused; compiled templates are cached.
Every failure is a ``RenderError`` (a ``TemplateError``) naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import css_inline
from jinja2 import Template, TemplateNotFound
from markupsafe import escape

from nurture.core.funnel import Sender
from nurture.core.sequence import Send
from nurture.mail.context import (
    Links,
    RenderContext,
    email_variable,
    preview_links,
    template_variables,
)
from nurture.mail.environment import FOOTER_TEMPLATE, make_environment
from nurture.mail.errors import RenderError, translate
from nurture.mail.text import html_to_text


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str


class Renderer:
    """Renders the emails of one funnel's ``templates/`` folder."""

    def __init__(self, templates_dir: Path, sender: Sender, base_url: str) -> None:
        self.templates_dir = templates_dir
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.env = make_environment(templates_dir)
        self._inliner = css_inline.CSSInliner(
            keep_at_rules=True,
            load_remote_stylesheets=False,
            preallocate_node_capacity=128,  # an email has ~100 nodes: no regrowth (35% faster)
        )
        self._strings: dict[str, Template] = {}
        self._missing: set[str] = set()  # optional templates known not to exist

    def preview_links(self) -> Links:
        """Links for previews and validation (``{base_url}/u/preview``)."""
        return preview_links(self.base_url)

    def template_names(self) -> list[str]:
        return self.env.list_templates()

    def render(self, send: Send, context: RenderContext) -> RenderedEmail:
        """Render every part; the first failure raises ``RenderError``."""
        variables = template_variables(context, self.sender)
        subject = self._render_line(send.subject, "subject", context, variables)
        variables["email"] = email_variable(subject)
        preheader = self._render_line(send.preheader or "", "preheader", context, variables)
        variables["email"] = email_variable(subject, preheader)
        html, text = self._render_body(send.template, context, variables)
        return RenderedEmail(subject=subject, preheader=preheader, html=html, text=text)

    def check(self, send: Send, context: RenderContext) -> list[RenderError]:
        """Render each part on its own and return every failure (for validation)."""
        errors: list[RenderError] = []
        variables = template_variables(context, self.sender)
        subject, preheader = send.subject, send.preheader or ""
        try:
            subject = self._render_line(subject, "subject", context, variables)
        except RenderError as exc:
            errors.append(exc)
        variables["email"] = email_variable(subject)
        try:
            preheader = self._render_line(preheader, "preheader", context, variables)
        except RenderError as exc:
            errors.append(exc)
        variables["email"] = email_variable(subject, preheader)
        try:
            self._render_body(send.template, context, variables)
        except RenderError as exc:
            errors.append(exc)
        return errors

    # -- parts -----------------------------------------------------------------------------

    def _render_line(
        self,
        source: str,
        part: str,
        context: RenderContext,
        variables: dict[str, object],
    ) -> str:
        """A subject or preheader: rendered without escaping, on one stripped line."""
        if not source:
            return ""
        label = f"{part} of step {context.step_id!r}"
        try:
            template = self._strings.get(source) or self.env.from_string(source)
            self._strings[source] = template
            rendered = template.render(variables)
        except Exception as exc:
            error = self._translate(exc, part, label, label)
            line = None if error.template == label else error.line  # a subject is one line
            raise RenderError(
                error.template, error.reason, line, part=part, hint=error.hint
            ) from exc
        return " ".join(rendered.split())

    def _render_body(
        self, name: str, context: RenderContext, variables: dict[str, object]
    ) -> tuple[str, str]:
        """HTML and text; either one lacking the unsubscribe link or the postal address
        gets the standard footer (``partials/footer.html``, or the built-in one)."""
        required = (context.links.unsubscribe_url, self.sender.postal_address)
        html = self._render_file(name, variables)
        footer: str | None = None
        if not all(_mentions(html, value) for value in required):
            footer = self._footer(name, required, variables)
            html = _before_body_end(html, footer)
        text_name = text_twin(name)
        text = self._render_optional(text_name, variables) if text_name else None
        if text is None:  # from the HTML before CSS inlining: same text, far less to parse
            text = html_to_text(html)
        html = self._inline_css(name, html)
        if not all(value in text for value in required):
            footer = footer or self._footer(name, required, variables)
            text = f"{text.rstrip()}\n\n{html_to_text(footer)}"
        return html, text.strip() + "\n"

    def _render_file(self, name: str, variables: dict[str, object]) -> str:
        try:
            return self.env.get_template(name).render(variables)
        except Exception as exc:
            raise self._translate(exc, "template", name, name) from exc

    def _render_optional(self, name: str, variables: dict[str, object]) -> str | None:
        """A template that may not exist (a ``.txt`` twin): None when it does not. A renderer
        serves one funnel version, whose files do not change, so a miss is remembered: the
        loader does not search the disk again for every email."""
        if name in self._missing:
            return None
        try:
            self.env.get_template(name)
        except TemplateNotFound as exc:
            if exc.name == name:
                self._missing.add(name)
                return None
        except Exception:
            pass  # a syntax error: let _render_file report it
        return self._render_file(name, variables)

    def _footer(
        self, rendering: str, required: tuple[str, str], variables: dict[str, object]
    ) -> str:
        footer = self._render_file(FOOTER_TEMPLATE, variables)
        if not all(_mentions(footer, value) for value in required):
            raise RenderError(
                FOOTER_TEMPLATE,
                "the footer must show {{ links.unsubscribe_url }} and "
                f"{{{{ sender.postal_address }}}} (it is added to {rendering}, which lacks one)",
            )
        return footer

    def _inline_css(self, name: str, html: str) -> str:
        try:
            return self._inliner.inline(html)
        except ValueError as exc:
            raise RenderError(name, f"CSS could not be inlined: {exc}") from exc

    def _translate(self, exc: BaseException, part: str, label: str, rendering: str) -> RenderError:
        return translate(
            exc,
            part=part,
            label=label,
            rendering=rendering,
            templates_dir=self.templates_dir,
            template_names=self.template_names(),
            filter_names=self.env.filters,
        )


def text_twin(name: str) -> str | None:
    """``cold/welcome.html`` → ``cold/welcome.txt``; None for a template that is not HTML."""
    path = PurePosixPath(name)
    return str(path.with_suffix(".txt")) if path.suffix in (".html", ".htm") else None


def _mentions(html: str, url: str) -> bool:
    return url in html or str(escape(url)) in html


def _before_body_end(html: str, footer: str) -> str:
    at = html.lower().rfind("</body>")
    return html + footer if at < 0 else html[:at] + footer + html[at:]
