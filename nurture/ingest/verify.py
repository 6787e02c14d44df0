"""Checks every webhook shares: size limit, JSON body, header lookup, replay window, and the
Mailgun token cache. Providers call these so each error says the same thing the same way."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from nurture.errors import WebhookMalformed, WebhookTooLarge, WebhookUnauthorized

#: Largest webhook body accepted. SendGrid batches stay well under 1 MB; 5 MB leaves room.
MAX_BODY_BYTES = 5 * 1024 * 1024
#: Default replay window for signed timestamps, seconds either side of now.
DEFAULT_TOLERANCE_SECONDS = 300.0


def check_size(body: bytes, limit: int = MAX_BODY_BYTES) -> None:
    """Refuse a body over ``limit`` bytes (413) before any parsing or crypto."""
    if len(body) > limit:
        raise WebhookTooLarge(f"webhook body is {len(body)} bytes; the limit is {limit}")


def parse_json(body: bytes) -> Any:
    """The body as JSON, or WebhookMalformed with the parser's position."""
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise WebhookMalformed(f"body is not UTF-8 JSON: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise WebhookMalformed(f"body is not JSON: {exc.msg} at char {exc.pos}") from exc


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value, case-insensitively (works for Starlette Headers and plain dicts)."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


def require_header(headers: Mapping[str, str], name: str) -> str:
    """A header that must be present and non-empty, else 401 naming it."""
    value = header(headers, name)
    if not value:
        raise WebhookUnauthorized(f"missing {name} header")
    return value


def check_timestamp(value: str, now: datetime, tolerance: float, what: str) -> int:
    """Epoch-seconds ``value`` must be within ``tolerance`` seconds of ``now`` (401 if not)."""
    try:
        stamp = int(value.strip())
    except ValueError as exc:
        raise WebhookUnauthorized(f"{what} is not epoch seconds: {value[:40]!r}") from exc
    skew = now.timestamp() - stamp
    if abs(skew) > tolerance:
        side = "old" if skew > 0 else "in the future"
        raise WebhookUnauthorized(
            f"{what} is {abs(skew):.0f}s {side}; outside the {tolerance:.0f}s replay window"
        )
    return stamp


class TokenCache(Protocol):
    """Remembers Mailgun signature tokens so a captured request cannot be replayed within the
    window. ``seen`` records the token and says whether it was already there; ``forget``
    lets it be used again (the request that spent it failed to store its events, and the
    provider's retry of that very request must not be refused as a replay)."""

    def seen(self, token: str) -> bool: ...

    def forget(self, token: str) -> None: ...


class MemoryTokenCache:
    """In-process TokenCache: each token kept ``ttl`` seconds (at least the replay window),
    at most ``max_size`` tokens (oldest dropped first). One per process; a cluster needs a
    shared store (database or Redis) behind the same protocol."""

    def __init__(
        self,
        ttl: float = 2 * DEFAULT_TOLERANCE_SECONDS,
        max_size: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_size
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, token: str) -> bool:
        now = self._clock()
        with self._lock:
            while self._expiry and next(iter(self._expiry.values())) <= now:
                self._expiry.popitem(last=False)
            if token in self._expiry:
                return True
            self._expiry[token] = now + self._ttl
            if len(self._expiry) > self._max:
                self._expiry.popitem(last=False)
            return False

    def forget(self, token: str) -> None:
        with self._lock:
            self._expiry.pop(token, None)
