"""Machine/bot classification of opens and clicks, before they count as engagement.

A flagged event is still stored, with the reason; it just scores nothing. Rules, first match
wins:

1. ``HEAD`` request (our own tracking): link checkers probe with HEAD, people's browsers GET.
2. Gmail image proxy open (user agent contains ``GoogleImageProxy``): Gmail fetches the pixel
   when the person opens the email, so it is a real open, even if a provider flags it.
3. The provider's own flag (SendGrid ``sg_machine_open``, Mailgun ``client-info.bot``).
4. Known security-scanner user agents (Barracuda, Mimecast, Proofpoint, Microsoft Safe Links
   / Defender, Symantec, ...) and bare HTTP libraries, for opens and clicks.
5. Apple Mail Privacy Protection, opens only: Apple's proxy fetches every pixel at delivery
   with the user agent exactly ``Mozilla/5.0`` (nothing after it) from Apple's own network
   17.0.0.0/8. Either signal flags the open. Clicks from Apple addresses are not flagged:
   the proxy only preloads images.
6. Link scanners, clicks only: a click within ``click_after_delivery`` of delivery (or before
   it: gateways scan before the mailbox gets the message), or ``burst_links`` distinct links
   of the same message clicked within ``burst_window`` (no person clicks two links at once).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
APPLE_MPP_USER_AGENT = "Mozilla/5.0"
GMAIL_PROXY_MARK = "googleimageproxy"

#: Lower-case user-agent fragments of mail security scanners and scripted fetchers.
SCANNER_AGENTS: tuple[tuple[str, str], ...] = (
    ("barracuda", "Barracuda"),
    ("mimecast", "Mimecast"),
    ("proofpoint", "Proofpoint"),
    ("safelinks", "Microsoft Safe Links"),
    ("safe links", "Microsoft Safe Links"),
    ("microsoft defender", "Microsoft Defender"),
    ("bingpreview", "Microsoft BingPreview"),
    ("symantec", "Symantec"),
    ("messagelabs", "Symantec MessageLabs"),
    ("forcepoint", "Forcepoint"),
    ("trendmicro", "Trend Micro"),
    ("trend micro", "Trend Micro"),
    ("sophos", "Sophos"),
    ("ironport", "Cisco IronPort"),
    ("fireeye", "FireEye"),
    ("zscaler", "Zscaler"),
    ("checkpoint", "Check Point"),
    ("cloudmark", "Cloudmark"),
    ("spamtitan", "SpamTitan"),
    ("python-requests", "python-requests"),
    ("python-urllib", "python-urllib"),
    ("go-http-client", "Go http client"),
    ("curl/", "curl"),
    ("wget/", "wget"),
    ("okhttp", "okhttp"),
    ("headlesschrome", "headless Chrome"),
)


@dataclass(frozen=True)
class BotThresholds:
    """Tunable limits for the timing rules."""

    click_after_delivery: timedelta = timedelta(seconds=10)
    burst_window: timedelta = timedelta(seconds=1)
    burst_links: int = 2


@dataclass(frozen=True)
class Click:
    """Another click on the same message: when, and which link (None if unknown)."""

    at: datetime
    url: str | None = None


DEFAULT_THRESHOLDS = BotThresholds()


def classify(
    event_type: str,
    *,
    occurred_at: datetime,
    user_agent: str | None = None,
    ip: str | None = None,
    method: str | None = None,
    provider_flag: str | None = None,
    delivered_at: datetime | None = None,
    url: str | None = None,
    other_clicks: Iterable[Click] = (),
    thresholds: BotThresholds = DEFAULT_THRESHOLDS,
) -> tuple[bool, str | None]:
    """``(machine, reason)`` for one event; only ``opened`` and ``clicked`` can be machine.
    ``delivered_at`` is the message's delivered (else sent) time; ``other_clicks`` the other
    clicks on the same message."""
    if event_type not in ("opened", "clicked"):
        return False, None
    if method is not None and method.upper() == "HEAD":
        return True, "HEAD request (link checker)"
    agent = (user_agent or "").strip()
    lowered = agent.lower()
    if event_type == "opened" and GMAIL_PROXY_MARK in lowered:
        return False, None
    if provider_flag:
        return True, provider_flag
    scanner = scanner_name(lowered)
    if scanner is not None:
        return True, f"scanner user agent ({scanner})"
    if event_type == "opened":
        return _apple_open(agent, ip)
    return _scanner_click(occurred_at, delivered_at, url, other_clicks, thresholds)


def scanner_name(user_agent: str) -> str | None:
    """The scanner a (lower-case) user agent belongs to, if known."""
    return next((name for mark, name in SCANNER_AGENTS if mark in user_agent), None)


def is_apple_ip(ip: str | None) -> bool:
    """Is ``ip`` (IPv4, or IPv4-mapped IPv6) inside Apple's 17.0.0.0/8?"""
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in APPLE_NETWORK


def _apple_open(agent: str, ip: str | None) -> tuple[bool, str | None]:
    if agent == APPLE_MPP_USER_AGENT:
        return True, "Apple Mail Privacy Protection (user agent 'Mozilla/5.0' only)"
    if is_apple_ip(ip):
        return True, "Apple Mail Privacy Protection (Apple IP 17.0.0.0/8)"
    return False, None


def _scanner_click(
    occurred_at: datetime,
    delivered_at: datetime | None,
    url: str | None,
    other_clicks: Iterable[Click],
    thresholds: BotThresholds,
) -> tuple[bool, str | None]:
    if delivered_at is not None:
        elapsed = occurred_at - delivered_at
        if elapsed < thresholds.click_after_delivery:
            seconds = elapsed.total_seconds()
            return True, f"clicked {seconds:.1f}s after delivery (link scanner)"
    links = {url if url is not None else "#this"}
    for index, other in enumerate(other_clicks):
        if abs(other.at - occurred_at) <= thresholds.burst_window:
            links.add(other.url if other.url is not None else f"#{index}")
    if len(links) >= thresholds.burst_links:
        window = thresholds.burst_window.total_seconds()
        return True, f"{len(links)} links clicked within {window:g}s (link scanner)"
    return False, None
