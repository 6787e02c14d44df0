"""Our own open and click tracking, for sending modes whose provider does not track (SMTP,
outbox): links go through ``{base_url}/c/{token}`` and a 1x1 pixel ``{base_url}/o/{token}.gif``
is added to the HTML.

    html = add_tracking(rendered.html, message_id=row_id, lead_id=lead.id,
                        key=settings.signing_key, base_url=settings.base_url)

Each click token carries the exact destination, signed (``tokens.sign_click``), so the
redirect endpoint can only send people where the email did: no open redirect. The HTML is
rewritten with regular expressions rather than re-serialised by a parser: only each tracked
``href`` value changes and the pixel is inserted, every other byte stays as the template
made it (a parser round trip reorders attributes, re-escapes text and drops comments that
Outlook's conditional blocks live in). It runs on every email, so it must stay cheap: one
pass over the HTML, one HMAC per tracked link.

Not rewritten: ``mailto:``, ``tel:``, ``#anchor`` and other non-http(s) links, our own
unsubscribe / preferences / tracking URLs, and any link marked ``data-nurture-track="off"``.
The text part is left alone: its links stay direct.
"""

from __future__ import annotations

import html as html_lib
import re

from nurture.mail.tokens import sign_click, sign_open

#: Providers that send without tracking of their own: our tracking is on by default.
OWN_TRACKING_PROVIDERS = frozenset({"smtp", "outbox", "memory"})
OPT_OUT_ATTRIBUTE = "data-nurture-track"

# An <a ...> start tag; quoted attribute values may contain '>'.
_ANCHOR = re.compile(r"""<a(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
# One attribute inside a start tag: name, then a double-, single- or un-quoted value.
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_HTTP_URL = re.compile(r"(?i:https?)://[^\x00-\x20\x7f]")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def tracking_enabled(provider: str, setting: bool | None) -> bool:
    """``NURTURE_TRACKING`` when set, else on for providers that do not track themselves."""
    return setting if setting is not None else provider in OWN_TRACKING_PROVIDERS


def add_tracking(html: str, *, message_id: int, lead_id: int, key: bytes, base_url: str) -> str:
    """``html`` with each trackable link sent through the click redirect and the open
    pixel added before ``</body>`` (at the end when there is none)."""
    root = base_url.rstrip("/")
    own = tuple(f"{root}/{kind}/" for kind in ("u", "p", "c", "o"))

    def rewrite(anchor: re.Match[str]) -> str:
        tag = anchor[0]
        if "href" not in tag.lower():
            return tag
        href: re.Match[str] | None = None
        for attribute in _ATTRIBUTE.finditer(tag, 2, len(tag) - 1):
            name = attribute[1].lower()
            if name == "href" and href is None:
                href = attribute
            elif name == OPT_OUT_ATTRIBUTE and _value(attribute).strip().lower() == "off":
                return tag
        if href is None:
            return tag
        url = _value(href)
        if "&" in url:
            url = html_lib.unescape(url)
        url = _URL_NOISE.sub("", url).strip()
        if not _HTTP_URL.match(url) or url.startswith(own) or _CONTROL.search(url):
            return tag
        tracked = f"{root}/c/{sign_click(lead_id, message_id, url, key)}"
        group = next(g for g in (2, 3, 4) if href[g] is not None)
        start, end = href.span(group)
        return tag[:start] + tracked + tag[end:]

    tracked_html = _ANCHOR.sub(rewrite, html)
    return _insert_pixel(tracked_html, open_pixel(root, lead_id, message_id, key))


def open_pixel(base_url: str, lead_id: int, message_id: int, key: bytes) -> str:
    """The ``<img>`` of the open pixel: 1x1, no border, empty alt (screen readers skip it)."""
    token = sign_open(lead_id, message_id, key)
    return (
        f'<img src="{base_url.rstrip("/")}/o/{token}.gif" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
    )


def _value(attribute: re.Match[str]) -> str:
    """An attribute's raw value (still HTML-escaped); empty for a bare attribute."""
    return attribute[2] or attribute[3] or attribute[4] or ""


def _insert_pixel(html: str, pixel: str) -> str:
    last = None
    for last in _BODY_END.finditer(html):  # noqa: B007 - the last one is the body's end
        pass
    if last is None:
        return html + pixel
    return html[: last.start()] + pixel + html[last.start() :]
