"""Our own tracking links: ``/c/{token}`` click redirect and ``/o/{token}.gif`` open pixel.

The redirect goes only to the URL signed into the token (no open redirect); a token we did
not sign gets 404 and nothing is recorded. The event is written after the response has gone
(a background task), and a database error there is logged, never shown: a person clicking a
link must land where the email promised, whatever happens to the bookkeeping. ``HEAD`` gets
the same redirect and is stored as a machine click (link checkers probe with HEAD).

A click whose destination is one of our own sites (NURTURE_SITE_ORIGINS) gets
``nurture_id=<identify token>`` added to the Location, so the snippet there can tie the
browser's visitor id to the lead (docs/website-events.md). The token names only the lead and
an expiry an hour on; any other site never sees it (it would be handing a stranger a key to
our lead's identity). A HEAD probe gets the plain URL: it is a link checker, not the person.

These routes serve whatever tokens we signed, whether tracking is on now or not: emails sent
while it was on must keep working.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from sqlalchemy.orm import Session

from nurture.errors import BadToken
from nurture.mail.tokens import (
    IDENTIFY_TTL,
    TrackingClaim,
    sign_identify,
    verify_click,
    verify_open,
)
from nurture.runtime import Runtime
from nurture.services.tracking_events import record_click, record_open
from nurture.web.auth import RuntimeDep
from nurture.web.routes.events import site_origins

log = logging.getLogger(__name__)

router = APIRouter(tags=["tracking"], include_in_schema=False)

#: A transparent 1x1 GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}

Recorder = Callable[..., bool]
IDENTIFY_PARAM = "nurture_id"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@router.head("/c/{token}")
def probe_click(
    token: str, request: Request, background: BackgroundTasks, rt: RuntimeDep
) -> Response:
    """A link checker's probe: the same redirect, stored as a machine click."""
    return _click(token, request, background, rt, "HEAD")


@router.get("/c/{token}")
def click(token: str, request: Request, background: BackgroundTasks, rt: RuntimeDep) -> Response:
    """302 to the link in the email; the click is stored after the response."""
    return _click(token, request, background, rt, "GET")


@router.get("/o/{token}.gif")
def open_pixel(
    token: str, request: Request, background: BackgroundTasks, rt: RuntimeDep
) -> Response:
    """The pixel, never cached (each fetch is an open); the open is stored after."""
    try:
        claim = verify_open(token, rt.settings.signing_key)
    except BadToken:
        return PlainTextResponse("Not found.\n", status_code=404, headers=NO_CACHE)
    _later(background, rt, record_open, claim, request, "GET")
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


def _click(
    token: str, request: Request, background: BackgroundTasks, rt: Runtime, method: str
) -> Response:
    try:
        claim = verify_click(token, rt.settings.signing_key)
    except BadToken:
        return PlainTextResponse("Not found.\n", status_code=404, headers=NO_CACHE)
    assert claim.url is not None  # verify_click only returns claims with a URL
    _later(background, rt, record_click, claim, request, method)
    location = claim.url
    if method == "GET" and origin_of(location) in site_origins(rt):
        expires_at = rt.clock.now() + IDENTIFY_TTL
        identify = sign_identify(claim.lead_id, expires_at, rt.settings.signing_key)
        location = add_query_param(location, IDENTIFY_PARAM, identify)
    return RedirectResponse(location, status_code=302, headers=NO_CACHE)


def origin_of(url: str) -> str | None:
    """The URL's origin as a browser writes it (``https://host[:port]``, default port left
    out, lower case); ``None`` when it has user info or a bad port, which we never treat as
    our site (``https://ours.example@evil.example`` is evil.example)."""
    parts = urlsplit(url)
    if "@" in parts.netloc or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    origin = f"{scheme}://{parts.hostname}"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        origin += f":{port}"
    return origin


def add_query_param(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` appended to its query; the existing query is kept byte
    for byte (not re-encoded) and the fragment stays after it. ``value`` must be URL-safe
    (a token is base64url and a dot)."""
    parts = urlsplit(url)
    query = f"{parts.query}&{name}={value}" if parts.query else f"{name}={value}"
    return urlunsplit(parts._replace(query=query))


def _later(
    background: BackgroundTasks,
    rt: Runtime,
    recorder: Recorder,
    claim: TrackingClaim,
    request: Request,
    method: str,
) -> None:
    ip = request.client.host if request.client else None
    agent = request.headers.get("user-agent")
    background.add_task(_record, rt, recorder, claim, rt.clock.now(), agent, ip, method)


def _record(
    rt: Runtime,
    recorder: Recorder,
    claim: TrackingClaim,
    now: datetime,
    user_agent: str | None,
    ip: str | None,
    method: str,
) -> None:
    """Store the event; any failure is logged and dropped (the person already has their
    page)."""
    try:
        with rt.database.unit_of_work() as uow:
            session: Session = uow.session
            raisers = rt.funnels.current.scoring.hand_raisers
            recorder(
                session, uow.jobs, claim,
                now=now, user_agent=user_agent, ip=ip, method=method, hand_raisers=raisers,
            )  # fmt: skip
    except Exception:
        log.exception(
            "tracking: could not record %s for message %s", recorder.__name__, claim.message_id
        )
