"""Reading small HTML form posts without python-multipart: urlencoded (what our pages send)
and multipart/form-data (RFC 8058 one-click senders may use it), with a size limit."""

from __future__ import annotations

import email.parser
import email.policy
from urllib.parse import parse_qsl

from fastapi import Request

MAX_FORM_BYTES = 16 * 1024  # the one-click body is 26 bytes; our own forms not much more


async def read_form(request: Request) -> dict[str, str] | None:
    """The form fields (first value of each), from a urlencoded or multipart body (RFC 8058
    allows both); ``{}`` for any other body; None when the body is over the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    content_type = request.headers.get("content-type", "")
    kind = content_type.partition(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: value for name, value in reversed(pairs)}
    if kind == "multipart/form-data":
        return _multipart(content_type, body)
    return {}


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    """Text fields of a multipart/form-data body, parsed by the stdlib MIME parser."""
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes) and name not in fields:
            fields[name] = payload.decode("utf-8", "replace")
    return fields
