"""Every NurtureError becomes a status code and ``{"error", "detail", "errors"}`` JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nurture.errors import (
    ConfigInvalid,
    Conflict,
    InvalidInput,
    NotFound,
    NurtureError,
    WebhookMalformed,
    WebhookTooLarge,
    WebhookUnauthorized,
    WebhookVerifierUnavailable,
)

#: The most specific class in an error's MRO wins (webhook errors are InvalidInput too).
STATUS: dict[type[NurtureError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    InvalidInput: (422, "invalid_input"),
    Conflict: (409, "conflict"),
    ConfigInvalid: (422, "config_invalid"),
    WebhookMalformed: (400, "malformed"),
    WebhookUnauthorized: (401, "unauthorized"),
    WebhookTooLarge: (413, "too_large"),
    # The provider retries on 5xx: what we need to verify it is unreachable, not its fault.
    WebhookVerifierUnavailable: (503, "verifier_unavailable"),
}


def _status_for(exc: NurtureError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400, "bad_request"


async def handle_nurture_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NurtureError)
    status, code = _status_for(exc)
    body: dict[str, object] = {"error": code, "detail": str(exc)}
    if isinstance(exc, InvalidInput) and exc.errors:
        body["errors"] = exc.errors
    if isinstance(exc, ConfigInvalid):
        body["errors"] = [p.as_dict() for p in exc.problems]
    return JSONResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NurtureError, handle_nurture_error)
