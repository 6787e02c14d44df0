"""The Jinja2 environment every email renders in.

Sandboxed (no attribute tricks, no mutating the variables), ``StrictUndefined`` (a typo is
an error, not an empty string), HTML autoescaping for ``.html`` files and none for ``.txt``
files and for subject lines. Templates load from the funnel's ``templates/`` folder, so
``{% extends "layouts/base.html" %}``, ``{% include "partials/…" %}`` and macros work; a
built-in footer stands in when the funnel has no ``partials/footer.html``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing, select_autoescape

from nurture.mail.context import TEMPLATE_VARIABLES, Vars, label_of

FOOTER_TEMPLATE = "partials/footer.html"

BUILTIN_FOOTER = """\
<div class="footer" style="margin-top:32px;font-size:12px;line-height:18px;color:#6b7280">
  <p>{{ sender.postal_address }}</p>
  <p>You get these emails because you asked {{ sender.from_name or sender.from_address }}
  to keep you posted.
  <a href="{{ links.unsubscribe_url }}">Unsubscribe</a> ·
  <a href="{{ links.preferences_url }}">Email preferences</a></p>
</div>
"""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def with_hint(message: str, hint: str | None) -> str:
    return f"{message} (did you mean {hint!r}?)" if hint else message


class HintedUndefined(StrictUndefined):
    """``StrictUndefined`` whose message names the variable and suggests the close field."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        name, obj = self._undefined_name, self._undefined_obj
        if self._undefined_hint or not isinstance(name, str):
            return super()._undefined_message
        if obj is missing:
            return with_hint(f"{name!r} is undefined", did_you_mean(name, TEMPLATE_VARIABLES))
        if isinstance(obj, Vars):
            return with_hint(f"{label_of(obj)} has no field {name!r}", did_you_mean(name, obj))
        if obj is None:
            return f"cannot read {name!r} of none (guard it with {{% if … %}})"
        return super()._undefined_message


def _field(lead: object, name: str) -> object:
    if isinstance(lead, Mapping):
        return lead.get(name)
    return getattr(lead, name, None)


def first_name_or(lead: object, fallback: str = "there") -> str:
    """``{{ lead | first_name_or("there") }}``: the first name, or the fallback if blank."""
    value = _field(lead, "first_name")
    return value.strip() if isinstance(value, str) and value.strip() else fallback


def company_or(lead: object, fallback: str = "your team") -> str:
    """``{{ lead | company_or("your team") }}``: the company name, or the fallback if blank."""
    value = _field(lead, "company")
    return value.strip() if isinstance(value, str) and value.strip() else fallback


def thousands(value: object) -> str:
    """``{{ 12500 | thousands }}`` → ``12,500``; text is left alone."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@pass_context
def utm(context: Context, url: str, content: str | None = None) -> str:
    """``{{ "https://…/guide" | utm }}`` adds utm_source, utm_medium, utm_campaign (the
    sequence id) and utm_content (the step id, or ``content``); parameters already in the
    URL win."""
    sequence, step = context.get("sequence"), context.get("step")
    campaign = str(_field(sequence, "id") or "")
    return _tagged(str(url), campaign, str(content or _field(step, "id") or ""))


@lru_cache(maxsize=4096)
def _tagged(url: str, campaign: str, content: str) -> str:
    """The same few links recur in every email of a step: computed once each."""
    tags = {
        "utm_source": "nurture",
        "utm_medium": "email",
        "utm_campaign": campaign,
        "utm_content": content,
    }
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    query += [(key, str(value)) for key, value in tags.items() if key not in present and value]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _finalize(value: object) -> object:
    """``{{ lead.title }}`` of a lead without a title prints nothing, not "None"."""
    return "" if value is None else value


def make_environment(templates_dir: Path) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(str(templates_dir.resolve())),
                DictLoader({FOOTER_TEMPLATE: BUILTIN_FOOTER}),
            ]
        ),
        undefined=HintedUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml"), default_for_string=False, default=False
        ),
        finalize=_finalize,
        keep_trailing_newline=True,
        auto_reload=False,  # no stat() per render: a changed funnel gets a new environment
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        first_name_or=first_name_or, company_or=company_or, thousands=thousands, utm=utm
    )
    return env
