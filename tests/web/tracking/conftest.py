"""Shared by the tracking tests: an email the sending loop really sent and its tracked
links (the loop and its client come from tests/web/conftest.py)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from nurture.mail.tracking import add_tracking
from nurture.store.models import Event

GUIDE = "https://lumen.example/guide?utm_source=nurture&step=2"
PRICING = "https://lumen.example/pricing"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel link protection)"


@pytest.fixture
def message(loop):
    """The first email of a lead, sent; the clock is an hour later (a person reading it)."""
    lead_id = loop.add_lead()
    loop.step()
    [sent] = loop.messages(lead_id)
    assert sent.status == "sent"
    loop.clock.set(sent.sent_at + timedelta(hours=1))
    return sent


@pytest.fixture
def links(loop, message):
    """Tracked paths of the message: {destination: /c/...} plus "open": /o/....gif."""
    guide, pricing, pixel = tracked_links(loop, message, GUIDE, PRICING)
    return {GUIDE: guide, PRICING: pricing, "open": pixel}


def tracked_links(loop, message, *urls):
    """The /c/ paths add_tracking gives ``urls`` in ``message``, then the /o/ pixel path."""
    anchors = " ".join(f'<a href="{url.replace("&", "&amp;")}">link</a>' for url in urls)
    tracked = add_tracking(
        f"<html><body>{anchors}</body></html>",
        message_id=message.id,
        lead_id=message.lead_id,
        key=loop.runtime.settings.signing_key,
        base_url=loop.runtime.settings.base_url,
    )
    clicks = re.findall(r'href="https?://[^/]+(/c/[^"]+)"', tracked)
    pixels = re.findall(r'src="https?://[^/]+(/o/[^"]+)"', tracked)
    return [*clicks, *pixels]


def stored(loop):
    with loop.database.unit_of_work(readonly=True) as uow:
        return list(uow.session.scalars(select(Event).order_by(Event.id)))
