"""Turn whatever Jinja2 (or a template's own code) raises into a ``RenderError`` that names
the template file, the line in that file, and a did-you-mean hint where one helps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from jinja2 import TemplateNotFound, TemplatesNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from nurture.errors import TemplateError
from nurture.mail.environment import did_you_mean, with_hint

STRING_TEMPLATE = "<template>"  # the file name Jinja gives templates made from strings

_HINTED = re.compile(r"^(?P<message>.*) \(did you mean '(?P<hint>[^']+)'\?\)$", re.DOTALL)
_NO_FILTER = re.compile(r"No (?:filter|test) named '(?P<name>[^']+)'")


class RenderError(TemplateError):
    """A ``TemplateError`` that also says which part of the email failed and the bare
    reason and hint apart, so validation can print them its own way.

    ``part`` is ``"template"`` (the HTML or text file, its layout and partials),
    ``"subject"`` or ``"preheader"``.
    """

    def __init__(
        self,
        template: str,
        reason: str,
        line: int | None = None,
        *,
        part: str = "template",
        hint: str | None = None,
    ) -> None:
        self.part = part
        self.reason = reason
        self.hint = hint
        super().__init__(template, with_hint(reason, hint), line)


def translate(
    exc: BaseException,
    *,
    part: str,
    label: str,
    rendering: str,
    templates_dir: Path,
    template_names: Iterable[str],
    filter_names: Iterable[str],
) -> RenderError:
    """Map ``exc``, raised while rendering ``rendering``, to a ``RenderError``.

    ``label`` names a template made from a string (a subject line); files are named by
    their path under ``templates_dir``.
    """
    root = templates_dir.resolve()
    where, line = _innermost_template(exc.__traceback__, root, label)
    if isinstance(exc, TemplateNotFound | TemplatesNotFound):
        missing_name = str(exc.name)
        hint = did_you_mean(missing_name, template_names)
        reason = f"template {missing_name!r} not found in {templates_dir.name}/"
        if where is None:
            return RenderError(missing_name, reason, part=part, hint=hint)
        reason = f"includes {reason}"
        return RenderError(where, _also(reason, where, rendering), line, part=part, hint=hint)
    if isinstance(exc, TemplateSyntaxError):
        name = _template_name(exc.filename, root, label) if exc.filename else None
        name = name or exc.name or label
        found = _NO_FILTER.search(exc.message or "")
        hint = did_you_mean(found["name"], filter_names) if found else None
        reason = f"syntax error: {exc.message}"
        return RenderError(name, _also(reason, name, rendering), exc.lineno, part=part, hint=hint)
    reason, hint = _split_hint(str(exc))
    if isinstance(exc, SecurityError):
        reason = f"not allowed in a template: {reason}"
    elif not isinstance(exc, UndefinedError):
        reason = f"{type(exc).__name__}: {reason}"
    name = where or rendering
    return RenderError(name, _also(reason, name, rendering), line, part=part, hint=hint)


def _also(reason: str, where: str, rendering: str) -> str:
    return reason if where == rendering else f"{reason} (while rendering {rendering})"


def _split_hint(message: str) -> tuple[str, str | None]:
    found = _HINTED.match(message)
    return (found["message"], found["hint"]) if found else (message, None)


def _template_name(filename: str, root: Path, label: str) -> str | None:
    if filename == STRING_TEMPLATE:
        return label
    try:
        return Path(filename).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def _innermost_template(
    tb: TracebackType | None, root: Path, label: str
) -> tuple[str | None, int | None]:
    """The deepest frame of template code in the traceback: Jinja rewrites those frames so
    that they carry the template's file name and its own line number."""
    where: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        name = _template_name(tb.tb_frame.f_code.co_filename, root, label)
        if name is not None:
            where = (name, tb.tb_lineno)
        tb = tb.tb_next
    return where
