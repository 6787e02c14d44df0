"""What the HTTP providers share: one ``httpx.Client`` each, and one mapping of what can go
wrong to our errors, so every provider retries, gives up or stops for the same reasons.

    2xx                                   the answer
    429                                   ProviderUnavailable, ``retry_after`` from Retry-After
    5xx, 408                              ProviderUnavailable
    401, 403                              ProviderUnavailable: our key or account is wrong, not
                                          this message; it goes once an operator fixes it
    other 4xx                             ProviderRejected, with the provider's own reason
    refused, unreachable, connect/pool    ProviderUnavailable: the request never left
    timeout, failed write
    read timeout, connection dropped      DeliveryUnknown: the provider may have accepted it
    after the request was sent

Every wait has an explicit limit (connect, read, write, pool): a blocked socket is the one
thing a Dramatiq time limit cannot interrupt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx

from nurture.core.clock import SYSTEM_CLOCK
from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.message import OutgoingEmail
from nurture.mail.providers.base import DeliveryUnknown, lookup_unsupported

ErrorText = Callable[[httpx.Response], str | None]


def make_client(
    base_url: str,
    timeout: float,
    *,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client for one provider API; every phase of a request is bounded by ``timeout``."""
    if timeout <= 0:
        raise ValueError("HTTP timeout must be positive: nothing may wait forever")
    limits = httpx.Timeout(connect=timeout, read=timeout, write=timeout, pool=timeout)
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=limits,
        headers={"User-Agent": "nurture", **(headers or {})},
        auth=auth,
        transport=transport,
    )


class HttpProvider:
    """Base of the HTTP providers: owns the client, posts, maps failures. None of them can
    look a message up (see each module), so ``find`` is a bug to call."""

    name = "http"
    supports_lookup = False

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def send(self, email: OutgoingEmail) -> str:
        raise NotImplementedError  # each provider module builds its own request

    def find(self, idempotency_key: str) -> str | None:
        raise lookup_unsupported(self)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def error_text(self, response: httpx.Response) -> str | None:
        """The provider's own reason in an error answer; overridden per provider."""
        return None

    def retryable(self, response: httpx.Response) -> bool:
        """A 4xx this provider means as "try again later" (throttling sent as 400, …)."""
        return False

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST and return a 2xx answer, or raise the mapped ``ProviderError``."""
        where = f"{self.name} POST {self.client.base_url.join(path)}"
        try:
            response = self.client.post(path, **kwargs)
        except httpx.TransportError as exc:
            raise_transport_error(where, exc)
        if response.is_success:
            return response
        reason = self.error_text(response)
        if self.retryable(response):
            message = f"{where}: {response.status_code} {reason or response.reason_phrase}"
            raise ProviderUnavailable(message, retry_after=retry_after(response))
        raise_for_status(where, response, reason)


def raise_transport_error(where: str, exc: httpx.TransportError) -> NoReturn:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError):
        raise DeliveryUnknown(f"{where}: no answer after the request was sent: {detail}") from exc
    raise ProviderUnavailable(f"{where}: {detail}") from exc


def raise_for_status(where: str, response: httpx.Response, reason: str | None) -> NoReturn:
    status = response.status_code
    message = f"{where}: {status} {reason or response.reason_phrase}".rstrip()
    if status == 429:
        raise ProviderUnavailable(message, retry_after=retry_after(response))
    if status >= 500 or status == 408:
        raise ProviderUnavailable(message, retry_after=retry_after(response))
    if status in (401, 403):
        raise ProviderUnavailable(f"{message} (check the API key and account settings)")
    raise ProviderRejected(message)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (delay-seconds or an HTTP date, measured against
    the answer's own ``Date`` so clock skew does not matter); None if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = _http_date(value)
    if when is None:
        return None
    dates = [d for d in map(_http_date, response.headers.get_list("Date")) if d is not None]
    now = dates[0] if dates else SYSTEM_CLOCK.now()
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when there is none or it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def accepted_id(value: object, fallback: str) -> str:
    """The provider's message id from a 2xx answer, else ``fallback`` (our Message-ID): a 2xx
    means the message was taken, so it is sent either way; webhooks still match it by the
    message id we put in the provider's metadata."""
    if isinstance(value, str | int) and str(value).strip():
        return str(value).strip()
    return fallback
