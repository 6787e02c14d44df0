"""Signed, URL-safe tokens for links in emails: unsubscribe, open pixel, click redirect,
and the short-lived ``identify`` token a click hands to our own site.

    token = sign(UNSUBSCRIBE, "lead:42:msg:1001", settings.signing_key)
    payload = verify(UNSUBSCRIBE, token, settings.signing_key)   # or BadToken

A token is ``base64url(payload) "." base64url(HMAC-SHA256(key, purpose NUL payload))``
without padding. The payload is readable, not secret: the MAC only proves we wrote it. The
purpose is inside the MAC, so an unsubscribe token can never pass as a click token. Tokens
do not expire: an unsubscribe link must keep working for as long as the email is kept. The
exception is ``identify``: it rides in a site URL (history, logs, a shared link), so it
carries an expiry and stops working soon after the click that made it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nurture.errors import BadToken

UNSUBSCRIBE = "unsubscribe"
OPEN = "open"
CLICK = "click"
IDENTIFY = "identify"
#: How long after the click an identify token still ties a browser to the lead.
IDENTIFY_TTL = timedelta(hours=1)

_DOMAIN = b"nurture-token\x00"  # keeps these MACs apart from any other use of the key
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_MAC_SIZE = hashlib.sha256().digest_size
_CLICK_PAYLOAD = re.compile(r"lead:(\d+):msg:(\d+):((?i:https?)://[^\x00-\x1f\x7f]+)")
_IDENTIFY_PAYLOAD = re.compile(r"lead:(\d+):exp:(\d{1,12})")


def sign(purpose: str, payload: str, key: bytes) -> str:
    """A token carrying ``payload`` that only ``verify`` with the same purpose accepts."""
    _check_purpose(purpose, key)
    data = payload.encode("utf-8")
    return f"{_encode(data)}.{_encode(_mac(purpose, data, key))}"


def verify(purpose: str, token: str, key: bytes) -> str:
    """The payload of a token we signed for ``purpose``; ``BadToken`` for anything else."""
    _check_purpose(purpose, key)
    encoded_payload, dot, encoded_mac = token.partition(".")
    if not dot:
        raise BadToken("malformed token: no signature")
    data = _decode(encoded_payload)
    mac = _decode(encoded_mac)
    if len(mac) != _MAC_SIZE or not hmac.compare_digest(mac, _mac(purpose, data, key)):
        raise BadToken("invalid token: signature does not match")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # only reachable with a leaked key; still refuse cleanly
        raise BadToken("malformed token: payload is not UTF-8") from None


@dataclass(frozen=True)
class UnsubscribeClaim:
    """Who asked to unsubscribe, and from which of our messages."""

    lead_id: int
    message_id: int


def sign_unsubscribe(lead_id: int, message_id: int, key: bytes) -> str:
    return sign(UNSUBSCRIBE, f"lead:{lead_id}:msg:{message_id}", key)


def verify_unsubscribe(token: str, key: bytes) -> UnsubscribeClaim:
    """The lead and message an unsubscribe token names; ``BadToken`` if it is not ours."""
    match = re.fullmatch(r"lead:(\d+):msg:(\d+)", verify(UNSUBSCRIBE, token, key))
    if match is None:
        raise BadToken("invalid token: not an unsubscribe token")
    return UnsubscribeClaim(lead_id=int(match[1]), message_id=int(match[2]))


@dataclass(frozen=True)
class TrackingClaim:
    """Which lead opened which message, or clicked which link (``url``, clicks only)."""

    lead_id: int
    message_id: int
    url: str | None = None


def sign_open(lead_id: int, message_id: int, key: bytes) -> str:
    return sign(OPEN, f"lead:{lead_id}:msg:{message_id}", key)


def verify_open(token: str, key: bytes) -> TrackingClaim:
    """The lead and message of an open-pixel token; ``BadToken`` if it is not ours."""
    match = re.fullmatch(r"lead:(\d+):msg:(\d+)", verify(OPEN, token, key))
    if match is None:
        raise BadToken("invalid token: not an open token")
    return TrackingClaim(lead_id=int(match[1]), message_id=int(match[2]))


def sign_click(lead_id: int, message_id: int, url: str, key: bytes) -> str:
    """A click token carrying the exact destination: the redirect goes there and nowhere
    else, so the redirect endpoint cannot be used as an open redirect."""
    return sign(CLICK, f"lead:{lead_id}:msg:{message_id}:{url}", key)


def verify_click(token: str, key: bytes) -> TrackingClaim:
    """Lead, message and destination of a click token; ``BadToken`` if it is not ours or
    its destination is not an http(s) URL."""
    match = _CLICK_PAYLOAD.fullmatch(verify(CLICK, token, key))
    if match is None:
        raise BadToken("invalid token: not a click token")
    return TrackingClaim(lead_id=int(match[1]), message_id=int(match[2]), url=match[3])


@dataclass(frozen=True)
class IdentifyClaim:
    """The lead a browser arriving from one of our emails is, until ``expires_at``."""

    lead_id: int
    expires_at: datetime


def sign_identify(lead_id: int, expires_at: datetime, key: bytes) -> str:
    """A token naming only the lead and when it stops working (whole seconds, UTC): no
    email address or message rides along to the site."""
    return sign(IDENTIFY, f"lead:{lead_id}:exp:{int(expires_at.timestamp())}", key)


def verify_identify(token: str, key: bytes, now: datetime) -> IdentifyClaim:
    """The lead of an identify token still valid at ``now``; ``BadToken`` if it is not ours,
    not an identify token, or expired."""
    match = _IDENTIFY_PAYLOAD.fullmatch(verify(IDENTIFY, token, key))
    if match is None:
        raise BadToken("invalid token: not an identify token")
    expires_at = datetime.fromtimestamp(int(match[2]), UTC)
    if now >= expires_at:
        raise BadToken(f"expired token: valid until {expires_at.isoformat()}")
    return IdentifyClaim(lead_id=int(match[1]), expires_at=expires_at)


def _mac(purpose: str, data: bytes, key: bytes) -> bytes:
    message = _DOMAIN + purpose.encode("utf-8") + b"\x00" + data
    return hmac.digest(key, message, "sha256")  # one-shot: a third of hmac.new's cost


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Strict base64url: only the alphabet, no padding, and only the one canonical spelling
    (the lenient stdlib decoder skips stray characters and ignores unused trailing bits)."""
    if not _BASE64URL.fullmatch(text):
        raise BadToken("malformed token: not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadToken("malformed token: not base64url") from None
    if _encode(data) != text:
        raise BadToken("malformed token: not base64url")
    return data


def _check_purpose(purpose: str, key: bytes) -> None:
    """Misuse is a bug in our code, not bad input: a TypeError-like ValueError."""
    if not purpose or "\x00" in purpose:
        raise ValueError(f"token purpose must be a non-empty string without NUL: {purpose!r}")
    if not key:
        raise ValueError("token signing key is empty")
