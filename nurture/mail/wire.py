"""Writing a message straight to RFC 5322 bytes, without building an ``EmailMessage``.

The stdlib's ``EmailMessage`` parses every header it is given back through its header
registry and re-folds it on output: about 3 ms per message, more than rendering the email.
Our messages have one fixed shape (multipart/alternative, text then HTML, UTF-8,
quoted-printable) and headers we produce ourselves, so they are written directly here with
the stdlib's encoders (``formataddr``, ``Header``, ``b2a_qp``). The tests parse the result
back with the stdlib parser, as a receiving server would.
"""

from __future__ import annotations

from binascii import b2a_qp
from collections.abc import Iterable
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr

CRLF = "\r\n"
MAX_LINE = 78  # RFC 5322's recommended line length; the hard limit is 998


def address(addr_spec: str, display_name: str | None = None) -> str:
    """``Name <addr>`` with the name quoted or RFC 2047-encoded as needed."""
    return formataddr((_one_line(display_name or ""), addr_spec), charset="utf-8")


def date(value: datetime) -> str:
    return format_datetime(value)


def unstructured(name: str, value: str) -> str:
    """A header line (with its CRLF) for free text such as Subject: folded between words
    when ASCII, RFC 2047-encoded (and folded) when not."""
    value = _one_line(value)
    if value.isascii() and "=?" not in value:  # "=?" would read as an encoded word
        return _fold_words(name, value)
    encoded = Header(value, "utf-8", header_name=name).encode(linesep=CRLF)
    return f"{name}: {encoded}{CRLF}"


def urls(name: str, values: Iterable[str]) -> str:
    """``Name: <a>,`` then each further ``<url>`` on its own continuation line: URL-list
    headers (List-Unsubscribe) are never encoded, which mailbox providers would not undo."""
    return f"{name}: " + f",{CRLF} ".join(f"<{url}>" for url in values) + CRLF


def header(name: str, value: str) -> str:
    """A short structured header we produce ourselves (ids, dates, fixed values)."""
    return f"{name}: {_one_line(value)}{CRLF}"


def alternative(headers: list[str], text: str, html: str, boundary: str) -> bytes:
    """The whole message: ``headers`` (each a line ending in CRLF), then a
    multipart/alternative body with the text part first (clients show the last part they
    can display) and the HTML part second, both UTF-8 and quoted-printable.

    ``boundary`` must start with ``=_``: quoted-printable output never contains "=_" (an
    "=" there is always followed by two hex digits or a line break), so such a boundary
    cannot occur in either part, and it needs no randomness."""
    if not boundary.startswith("=_"):
        raise ValueError(f"boundary must start with '=_': {boundary!r}")
    head = "".join(headers) + (
        f"MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative;{CRLF}"
        f' boundary="{boundary}"{CRLF}{CRLF}'
    )
    delimiter = f"{CRLF}--{boundary}{CRLF}".encode("ascii")
    return b"".join(
        (
            head.encode("ascii"),
            delimiter,
            _part("plain", text),
            delimiter,
            _part("html", html),
            f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
        )
    )


def _part(subtype: str, body: str) -> bytes:
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
    )
    lines = body.replace("\r\n", "\n").replace("\r", "\n")
    if not lines.endswith("\n"):
        lines += "\n"
    encoded = b2a_qp(lines.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return head.encode("ascii") + encoded.replace(b"\n", b"\r\n")


def _fold_words(name: str, value: str) -> str:
    """Fold at spaces so that no line passes MAX_LINE where a space allows it."""
    lines: list[str] = []
    line = f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > MAX_LINE and line.strip() and not line.endswith(":"):
            lines.append(line)
            line = ""
        line += f" {word}"
    lines.append(line)
    return CRLF.join(lines) + CRLF


def _one_line(value: str) -> str:
    """Header values never carry line breaks (no header injection)."""
    return " ".join(value.splitlines())
