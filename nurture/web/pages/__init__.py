"""The few HTML pages a person sees from a link in an email: unsubscribe, preferences, a
plain "link not valid". Jinja2 with autoescape on; no JavaScript, no external assets, so
they work in any browser and leak nothing (the token is in the URL: no Referer, no index).

    return render_page("preferences.html", sender=funnel.sender, status_code=200, ...)
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

FOLDER = Path(__file__).parent

#: Sent with every page: nothing to cache, index or leak; inline styles and our forms only.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(FOLDER),
        autoescape=True,
        undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = day
    return env


def day(moment: datetime) -> str:
    """``23 December 2026 (UTC)``: unambiguous in every locale, no time of day to misread."""
    return f"{moment.day} {moment:%B %Y} (UTC)"


def render_page(name: str, *, status_code: int = 200, **context: object) -> HTMLResponse:
    """``name`` rendered with ``context`` as an HTML response with the page headers."""
    body = environment().get_template(name).render(**context)
    return HTMLResponse(body, status_code=status_code, headers=HEADERS)
