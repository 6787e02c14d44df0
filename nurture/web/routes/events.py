"""Website and product events: ``POST /v1/events`` (API key, from a site's or product's
server), ``POST /v1/collect`` (public, from browsers: anonymous page views only) and the
snippet that feeds it, ``GET /v1/js/nurture.js`` (docs/website-events.md).

The browser endpoint holds no secret, so it accepts as little as can be useful: one page
view with a visitor id, from a configured site origin, small, and rate-limited per IP. What
makes a visitor a lead comes only from an authenticated server (its email) or from a token we
signed: ``identify``, the ``nurture_id`` a click from one of our emails adds to a link to our
site. A browser can never name an email here.
"""

from __future__ import annotations

import json
import time
from functools import cache
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from nurture.errors import BadToken, InvalidInput, NotFound
from nurture.mail.tokens import verify_identify
from nurture.runtime import Runtime
from nurture.services.site_event_input import SiteEventIn, parse_events
from nurture.services.site_events import RequestMeta, record_site_events
from nurture.services.visitors import identify_visitor
from nurture.web.auth import RuntimeDep, require_api_key
from nurture.web.schemas import SiteEventsOut

MAX_BATCH = 1000
MAX_BODY = 5 * 1024 * 1024  # 1,000 events with their properties
MAX_COLLECT_BODY = 8 * 1024
#: Page views one IP may post per minute to /v1/collect (per API process).
COLLECT_PER_MINUTE = 120
SOURCE_API = "website"
SOURCE_BROWSER = "website-js"

router = APIRouter(tags=["events"])


class IdentifyIn(BaseModel):
    """The snippet's identify call: this browser arrived from a click in one of our emails."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["identify"]
    visitor_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    token: str = Field(min_length=1, max_length=512)


#: The body is parsed by hand (per-item errors with their index); OpenAPI still shows it.
_ONE = SiteEventIn.model_json_schema()
EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"anyOf": [_ONE, {"type": "array", "items": _ONE, "maxItems": MAX_BATCH}]}
        }
    },
}


@router.post(
    "/v1/events",
    response_model=SiteEventsOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_api_key)],
    openapi_extra={"requestBody": EVENTS_BODY},
)
async def post_events(request: Request, rt: RuntimeDep) -> SiteEventsOut:
    """Store one event (a JSON object) or up to 1,000 (an array): `page_view` (url, title),
    `form_submit`, `download`, `webinar_attended`, `trial_started`, `demo_requested`,
    `pricing_viewed`, or a custom name; each with `email`, `visitor_id` or both.

    The whole request is validated first: one bad item refuses it (422, each problem with
    its item's index) and nothing is stored. A repeated `event_id` is stored once. A
    `form_submit` or `demo_requested` for an unknown email creates the lead; other events of
    unknown emails are kept anonymous until that email becomes a lead.
    """
    raw = await _json_body(request, MAX_BODY)
    meta = RequestMeta(request.headers.get("user-agent"), _client_ip(request), classify=False)
    return await run_in_threadpool(_store, rt, raw, meta, SOURCE_API, public=False)


@router.options("/v1/collect", include_in_schema=False)
def collect_preflight(request: Request, rt: RuntimeDep) -> Response:
    """CORS preflight, for a browser that posts JSON with an application/json type."""
    origin = _allowed_origin(request, rt)
    headers = _cors(origin) | {
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
    }
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@router.post("/v1/collect", response_model=SiteEventsOut, status_code=status.HTTP_202_ACCEPTED)
async def collect(request: Request, rt: RuntimeDep) -> JSONResponse:
    """Public: one anonymous `page_view` with a `visitor_id`, from a page of a site listed
    in NURTURE_SITE_ORIGINS (others get 403, and no CORS headers). User agent and IP come
    from the request; crawlers are stored flagged as machine.

    Or `{"type": "identify", "visitor_id", "token"}`: the `nurture_id` token a click from
    one of our emails put in the page's URL; the visitor becomes that lead and its earlier
    page views join it. A forged, expired or other token gets 400 with the reason."""
    origin = _allowed_origin(request, rt)
    ip = _client_ip(request)
    _limiter(request).check(ip or "unknown")
    meta = RequestMeta(request.headers.get("user-agent"), ip, classify=True)
    try:
        raw = await _json_body(request, MAX_COLLECT_BODY)
        if isinstance(raw, list):
            raise InvalidInput("send one event object, not an array")
        if isinstance(raw, dict) and raw.get("type") == "identify":
            try:
                await run_in_threadpool(_identify, rt, raw)
            except (BadToken, NotFound) as exc:
                refused = {"error": "bad_token", "detail": str(exc)}
                return JSONResponse(refused, status_code=400, headers=_cors(origin))
            return JSONResponse({"identified": True}, status_code=202, headers=_cors(origin))
        out = await run_in_threadpool(_store, rt, raw, meta, SOURCE_BROWSER, public=True)
    except InvalidInput as exc:  # answered here so the page can read why (CORS headers)
        body = {"error": "invalid_input", "detail": str(exc), "errors": exc.errors}
        return JSONResponse(body, status_code=422, headers=_cors(origin))
    return JSONResponse(out.model_dump(), status_code=202, headers=_cors(origin))


@router.get("/v1/js/nurture.js", include_in_schema=False)
def snippet() -> Response:
    """The page-view snippet; cacheable for an hour by browsers and CDNs."""
    return Response(
        _snippet_source(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _store(rt: Runtime, raw: object, meta: RequestMeta, source: str, public: bool) -> SiteEventsOut:
    now = rt.clock.now()
    events = parse_events(raw, now, max_items=MAX_BATCH, public=public)
    with rt.database.unit_of_work() as uow:
        counts = record_site_events(
            uow.session,
            uow.jobs,
            rt.funnels.current,
            events,
            now=now,
            source=source,
            meta=meta,
            default_time_zone=rt.settings.default_time_zone,
        )
    return SiteEventsOut(
        stored=counts.stored, duplicates=counts.duplicates, anonymous=counts.anonymous
    )


def _identify(rt: Runtime, raw: object) -> bool:
    """Verify the token before any write; then tie the visitor to its lead."""
    try:
        body = IdentifyIn.model_validate(raw)
    except ValidationError as exc:
        errors: list[dict[str, object]] = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
            for err in exc.errors()
        ]
        raise InvalidInput(
            f"identify: {errors[0]['field']}: {errors[0]['message']}", errors
        ) from None
    now = rt.clock.now()
    claim = verify_identify(body.token, rt.settings.signing_key, now)
    with rt.database.unit_of_work() as uow:
        return identify_visitor(uow.session, uow.jobs, body.visitor_id, claim.lead_id, now)


async def _json_body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"body too large: at most {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InvalidInput(f"body too large: at most {limit} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"body is not JSON: {exc}") from None


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def site_origins(rt: Runtime) -> frozenset[str]:
    """NURTURE_SITE_ORIGINS as a set: who may post here, and where a click may carry an
    identify token (``routes.tracking``)."""
    raw = rt.settings.site_origins or ""
    return frozenset(o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip())


def _allowed_origin(request: Request, rt: Runtime) -> str:
    """The request's Origin when it is a configured site; 404 when none is configured."""
    origins = site_origins(rt)
    if not origins:
        raise NotFound("no site origins configured (NURTURE_SITE_ORIGINS)")
    origin = request.headers.get("origin", "")
    if origin not in origins:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"origin {origin or '(none)'!r} is not a configured site"
        )
    return origin


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


class _Limiter:
    """A fixed one-minute window per IP. Per process: N API processes allow N times the
    rate, which is enough to stop one browser or script flooding the events table."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._window = 0
        self._counts: dict[str, int] = {}

    def check(self, key: str) -> None:
        window = int(time.monotonic() // 60)
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > self._per_minute:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"more than {self._per_minute} page views a minute from {key}",
                headers={"Retry-After": str(60 - int(time.monotonic() % 60))},
            )


def _limiter(request: Request) -> _Limiter:
    """The app's limiter, made on first use (each app, e.g. each test's, has its own)."""
    state = request.app.state
    if not hasattr(state, "collect_limiter"):
        state.collect_limiter = _Limiter(COLLECT_PER_MINUTE)
    limiter: _Limiter = state.collect_limiter
    return limiter


@cache
def _snippet_source() -> str:
    return resources.files("nurture.web").joinpath("static/nurture.js").read_text("utf-8")
