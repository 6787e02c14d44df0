"""Posting to a webhook (Slack, Teams, a CRM) and what its answer means:

    2xx                               delivered
    429, 5xx, 408                     NotificationUnavailable (``retry_after`` from Retry-After)
    other 4xx                         NotificationRejected, with the receiver's own reason
                                      (Slack: ``invalid_blocks``, ``no_service``, ...)
    refused, unreachable, timeouts    NotificationUnavailable: a receiver that got it twice
                                      tells by ``X-Nurture-Idempotency-Key`` (the CRM)

Every wait has an explicit limit (connect, read, write, pool): a blocked socket is the one
thing a Dramatiq time limit cannot interrupt.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from nurture.handoff.errors import NotificationRejected, NotificationUnavailable
from nurture.mail.providers._http import retry_after

REASON_LIMIT = 300  # characters of the receiver's answer kept in last_error


def make_client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """One client per process for every webhook; each phase is bounded by ``timeout``."""
    if timeout <= 0:
        raise ValueError("HTTP timeout must be positive: nothing may wait forever")
    limits = httpx.Timeout(connect=timeout, read=timeout, write=timeout, pool=timeout)
    return httpx.Client(timeout=limits, headers={"User-Agent": "nurture"}, transport=transport)


def post(
    client: httpx.Client,
    channel: str,
    url: str,
    content: bytes,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST JSON ``content``; the 2xx answer, or the mapped ``NotificationError``. Messages
    name the channel and the host, never the full URL (webhook URLs are secrets)."""
    where = f"{channel}: POST {httpx.URL(url).host or url}"
    try:
        response = client.post(
            url, content=content, headers={"Content-Type": "application/json", **(headers or {})}
        )
    except httpx.TransportError as exc:
        detail = str(exc) or type(exc).__name__
        raise NotificationUnavailable(f"{where}: {detail}") from exc
    if response.is_success:
        return response
    status = response.status_code
    reason = _reason(response)
    message = f"{where}: {status} {reason}".rstrip()
    if status == 429 or status == 408 or status >= 500:
        raise NotificationUnavailable(message, retry_after=retry_after(response))
    raise NotificationRejected(message)


def _reason(response: httpx.Response) -> str:
    """The receiver's own words (Slack answers ``invalid_blocks`` as plain text), one line."""
    try:
        text = " ".join(response.text.split())
    except UnicodeDecodeError:
        text = ""
    text = text or response.reason_phrase
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"
