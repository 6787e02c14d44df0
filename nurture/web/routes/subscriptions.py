"""The links every email carries: ``/u/{token}`` (List-Unsubscribe, RFC 8058) and
``/p/{token}`` (preferences). No login and no cookies: the signed token is the credential.

- ``POST /u/{token}`` with ``List-Unsubscribe=One-Click`` (what mailbox providers send)
  unsubscribes at once and answers 200 with a tiny body; repeats change nothing.
- ``GET /u/{token}`` only shows a page (link scanners GET every link): confirm, or pause for
  30 days instead. Its form posts back here with ``action=unsubscribe|pause``.
- ``GET /p/{token}`` shows the lead's status and choices; ``POST`` applies one of
  ``unsubscribe``, ``pause``, ``resume``, ``resubscribe``.

A token we did not sign, or a lead that no longer exists, gets a plain 404 page and nothing
is recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from nurture.errors import BadToken, NotFound
from nurture.mail.tokens import UnsubscribeClaim, verify_unsubscribe
from nurture.runtime import Runtime
from nurture.services import subscriptions as service
from nurture.services.subscriptions import Subscriber, SubscriptionRefused
from nurture.web.auth import RuntimeDep
from nurture.web.forms import read_form
from nurture.web.pages import HEADERS, render_page

router = APIRouter(tags=["subscriptions"], include_in_schema=False)

ONE_CLICK = ("List-Unsubscribe", "One-Click")

Change = Callable[..., Subscriber]
#: What each form choice does; each takes (session, claim, now, funnel).
CHOICES: dict[str, tuple[Change, str | None]] = {
    "unsubscribe": (
        lambda session, claim, now, _: service.unsubscribe(
            session, claim, now, service.SOURCE_PAGE
        ),
        None,
    ),
    "pause": (lambda session, claim, now, _: service.pause(session, claim, now), None),
    "resume": (
        lambda session, claim, now, _: service.resume(session, claim, now),
        "Emails resumed.",
    ),
    "resubscribe": (service.resubscribe, "Welcome back: you are subscribed again."),
}
UNSUBSCRIBE_PAGE_CHOICES = frozenset({"unsubscribe", "pause"})


@router.get("/u/{token}", response_class=HTMLResponse)
def confirm_unsubscribe(token: str, rt: RuntimeDep) -> Response:
    """Ask; never act (a GET may come from a mail scanner, not the person)."""
    return _show(rt, token, "unsubscribe.html")


@router.post("/u/{token}")
async def unsubscribe(token: str, request: Request, rt: RuntimeDep) -> Response:
    """One-click (RFC 8058): unsubscribe now, 200 with a tiny body. Otherwise the confirm
    page's choice: ``pause``, else unsubscribe (a POST to this URL asks to leave)."""
    form = await read_form(request)
    if form is None:
        return PlainTextResponse("Request body too large.\n", status_code=413)
    if form.get(ONE_CLICK[0], "").strip().lower() == ONE_CLICK[1].lower():
        return await run_in_threadpool(_one_click, rt, token)
    choice = form.get("action", "unsubscribe")
    if choice not in UNSUBSCRIBE_PAGE_CHOICES:
        choice = "unsubscribe"
    return await run_in_threadpool(_choose, rt, token, choice)


@router.get("/p/{token}", response_class=HTMLResponse)
def preferences(token: str, rt: RuntimeDep) -> Response:
    return _show(rt, token, "preferences.html")


@router.post("/p/{token}", response_class=HTMLResponse)
async def change_preferences(token: str, request: Request, rt: RuntimeDep) -> Response:
    form = await read_form(request)
    if form is None:
        return PlainTextResponse("Request body too large.\n", status_code=413)
    return await run_in_threadpool(_choose, rt, token, form.get("action", ""))


def _one_click(rt: Runtime, token: str) -> Response:
    claim = _claim(rt, token)
    if claim is None:
        return PlainTextResponse("Unknown link.\n", status_code=404, headers=HEADERS)
    try:
        with rt.database.unit_of_work() as uow:
            service.unsubscribe(uow.session, claim, rt.clock.now(), service.SOURCE_ONE_CLICK)
    except NotFound:
        return PlainTextResponse("Unknown link.\n", status_code=404, headers=HEADERS)
    return PlainTextResponse("Unsubscribed.\n", headers=HEADERS)


def _choose(rt: Runtime, token: str, choice: str) -> Response:
    claim = _claim(rt, token)
    if claim is None:
        return _not_found(rt)
    if choice not in CHOICES:
        return _message(rt, 400, "Choose an option", "Pick one of the buttons on the page.")
    change, notice = CHOICES[choice]
    now = rt.clock.now()
    try:
        with rt.database.unit_of_work() as uow:
            subscriber = change(uow.session, claim, now, rt.funnels.current)
    except NotFound:
        return _not_found(rt)
    except SubscriptionRefused as exc:
        with rt.database.unit_of_work(readonly=True) as uow:
            subscriber = service.subscriber(uow.session, claim)
        return _page(rt, "preferences.html", token, subscriber, notice=str(exc), status=409)
    return _page(rt, "preferences.html", token, subscriber, notice=notice)


def _show(rt: Runtime, token: str, template: str) -> Response:
    claim = _claim(rt, token)
    if claim is None:
        return _not_found(rt)
    try:
        with rt.database.unit_of_work(readonly=True) as uow:
            subscriber = service.subscriber(uow.session, claim)
    except NotFound:
        return _not_found(rt)
    return _page(rt, template, token, subscriber)


def _page(
    rt: Runtime,
    template: str,
    token: str,
    subscriber: Subscriber,
    *,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return render_page(
        template,
        status_code=status,
        sender=rt.funnels.current.sender,
        subscriber=subscriber,
        token=token,
        now=rt.clock.now(),
        notice=notice,
    )


def _claim(rt: Runtime, token: str) -> UnsubscribeClaim | None:
    try:
        return verify_unsubscribe(token, rt.settings.signing_key)
    except BadToken:
        return None


def _not_found(rt: Runtime) -> Response:
    return _message(
        rt,
        404,
        "Link not valid",
        "This link is not one of ours, or it was changed on the way. "
        "Use the link in the latest email you got from us.",
    )


def _message(rt: Runtime, status: int, heading: str, text: str) -> Response:
    sender = rt.funnels.current.sender
    return render_page(
        "message.html", status_code=status, sender=sender, heading=heading, text=text
    )
