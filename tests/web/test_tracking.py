"""/c/{token} click redirect and /o/{token}.gif open pixel on SQLite and PostgreSQL, for an
email the sending loop really sent: where the redirect goes, what is stored, and which
requests are classified as machines."""

import html as html_lib
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from nurture.core.clock import FrozenClock
from nurture.errors import BadToken
from nurture.mail.providers import MemoryProvider
from nurture.mail.tokens import (
    IDENTIFY_TTL,
    sign_click,
    sign_unsubscribe,
    verify_click,
    verify_identify,
)
from nurture.mail.tracking import add_tracking
from nurture.services.engagement import process_engagement
from nurture.store.models import Event
from nurture.web.app import create_app
from tests.services.conftest import MONDAY_9AM_CHICAGO, Loop
from tests.support import API_KEY, shipped_runtime

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
def loop(database, tmp_path):
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    provider = MemoryProvider()
    harness = Loop(shipped_runtime(database, tmp_path, provider, clock), clock, provider)

    def dispatch(job):
        if job.actor != "process_engagement":
            return harness.run_job(job)
        with database.unit_of_work() as uow:
            return process_engagement(uow.session, job.args[0], clock.now())

    database.dispatcher = dispatch
    return harness


@pytest.fixture
def client(loop):
    with TestClient(create_app(loop.runtime)) as test_client:
        yield test_client


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


class TestClick:
    def test_a_click_redirects_to_the_signed_url_and_is_stored(self, loop, client, links, message):
        response = client.get(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == GUIDE
        assert "no-store" in response.headers["cache-control"]
        [event] = stored(loop)
        assert (event.type, event.source, event.url) == ("clicked", "tracking", GUIDE)
        assert (event.lead_id, event.message_id) == (message.lead_id, message.id)
        assert (event.machine, event.machine_reason) == (False, None)
        assert event.user_agent == CHROME and event.ip == "testclient"

    def test_each_click_is_its_own_event(self, loop, client, links):
        client.get(links[GUIDE], follow_redirects=False, headers={"User-Agent": CHROME})
        loop.clock.advance(timedelta(minutes=3))
        client.get(links[GUIDE], follow_redirects=False, headers={"User-Agent": CHROME})

        assert len({e.source_event_id for e in stored(loop)}) == 2

    def test_a_query_parameter_cannot_change_the_destination(self, client, links):
        response = client.get(links[PRICING] + "?url=https://evil.example/", follow_redirects=False)

        assert response.headers["location"] == PRICING

    def test_a_token_whose_url_was_swapped_is_404_and_stores_nothing(self, loop, client, links):
        guide_payload, guide_mac = links[GUIDE].removeprefix("/c/").split(".")
        pricing_payload = links[PRICING].removeprefix("/c/").split(".")[0]

        for forged in (f"{pricing_payload}.{guide_mac}", f"{guide_payload}.{guide_mac[::-1]}"):
            response = client.get(f"/c/{forged}", follow_redirects=False)
            assert response.status_code == 404
            assert "location" not in response.headers
        assert stored(loop) == []

    def test_an_unsubscribe_token_is_not_a_click_token(self, loop, client, message):
        token = sign_unsubscribe(message.lead_id, message.id, loop.runtime.settings.signing_key)

        assert client.get(f"/c/{token}", follow_redirects=False).status_code == 404
        assert client.get(f"/o/{token}.gif").status_code == 404
        assert stored(loop) == []

    def test_head_redirects_but_is_not_a_human_click(self, loop, client, links):
        response = client.head(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == GUIDE
        [event] = stored(loop)
        assert event.machine is True
        assert "HEAD" in event.machine_reason

    def test_a_scanner_user_agent_click_is_a_machine_click(self, loop, client, links):
        client.get(links[GUIDE], headers={"User-Agent": SCANNER}, follow_redirects=False)

        [event] = stored(loop)
        assert event.machine is True
        assert "Barracuda" in event.machine_reason

    def test_a_click_seconds_after_sending_is_a_link_scanner(self, loop, client, links, message):
        loop.clock.set(message.sent_at + timedelta(seconds=2))

        client.get(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)

        [event] = stored(loop)
        assert event.machine is True
        assert "after delivery" in event.machine_reason

    def test_two_links_clicked_in_the_same_second_are_a_scanner(self, loop, client, links):
        client.get(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)
        client.get(links[PRICING], headers={"User-Agent": CHROME}, follow_redirects=False)

        first, second = stored(loop)
        assert first.machine is False
        assert second.machine is True and "links clicked within" in second.machine_reason

    def test_a_database_error_still_redirects(self, loop, client, links, caplog):
        with loop.database.engine.begin() as connection:
            connection.execute(text("DROP TABLE stage_changes"))
            connection.execute(text("DROP TABLE events"))

        with caplog.at_level(logging.ERROR, logger="nurture.web.routes.tracking"):
            response = client.get(links[GUIDE], follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == GUIDE
        assert "could not record" in caplog.text


@pytest.fixture
def guide_click(loop):
    """A startup lead waiting for a click on the metrics guide (an hour after it went out):
    (lead id, the tracked /c/ path of the guide's first link)."""
    lead_id = loop.add_lead(email="sam@startup.example", attributes={"company_size": 40})
    while "metrics-guide" not in [m.step_id for m in loop.messages(lead_id)]:
        loop.step() or loop.clock.set(loop.next_due())
    guide = loop.messages(lead_id)[-1]
    assert loop.enrollment(lead_id).status == "waiting_for_event"
    loop.clock.advance(timedelta(hours=1))
    [outgoing] = [o for o in loop.provider.sent if o.message_id == guide.id]
    html = outgoing.mime.get_body(("html",)).get_content()
    base = loop.runtime.settings.base_url
    key = loop.runtime.settings.signing_key
    for path in re.findall(rf'href="{re.escape(base)}(/c/[^"]+)"', html):  # the email's own
        if verify_click(path.removeprefix("/c/"), key).url.startswith("https://lumen-analytics"):
            return lead_id, html_lib.unescape(path)
    raise AssertionError("the guide email holds no tracked link to the guide")


class TestEngagement:
    def test_a_tracked_click_on_the_guide_wakes_the_wait_and_skips_the_reminder(
        self, loop, client, guide_click
    ):
        lead_id, path = guide_click

        client.get(path, headers={"User-Agent": CHROME}, follow_redirects=False)

        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()
        loop.run_until_idle()
        steps = [m.step_id for m in loop.messages(lead_id)]
        assert steps == ["welcome", "metrics-guide", "startup-story", "soft-ask"]

    def test_a_machine_click_does_not_end_the_wait(self, loop, client, guide_click):
        lead_id, path = guide_click

        client.head(path, follow_redirects=False)
        client.get(path, headers={"User-Agent": SCANNER}, follow_redirects=False)
        loop.run_until_idle()

        steps = [m.step_id for m in loop.messages(lead_id)]
        assert steps[:3] == ["welcome", "metrics-guide", "guide-reminder"]


class TestOpen:
    def test_the_pixel_is_an_uncached_gif_and_the_open_is_stored(self, loop, client, links):
        response = client.get(links["open"], headers={"User-Agent": CHROME})

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert response.content.startswith(b"GIF89a\x01\x00\x01\x00")
        assert "no-store" in response.headers["cache-control"]
        [event] = stored(loop)
        assert (event.type, event.source, event.machine) == ("opened", "tracking", False)

    def test_a_gmail_image_proxy_open_counts_as_a_real_open(self, loop, client, links):
        client.get(links["open"], headers={"User-Agent": GMAIL_PROXY})

        [event] = stored(loop)
        assert (event.machine, event.machine_reason) == (False, None)

    def test_an_apple_privacy_protection_prefetch_is_a_machine_open(self, loop, client, links):
        client.get(links["open"], headers={"User-Agent": "Mozilla/5.0"})

        [event] = stored(loop)
        assert event.machine is True
        assert "Apple Mail Privacy Protection" in event.machine_reason

    def test_a_forged_pixel_is_404_and_stores_nothing(self, loop, client, links):
        payload, mac = links["open"].removeprefix("/o/").removesuffix(".gif").split(".")
        forged = f"{payload}.{'B' if mac[0] != 'B' else 'C'}{mac[1:]}"

        assert client.get(f"/o/{forged}.gif").status_code == 404
        with loop.database.unit_of_work(readonly=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(Event)) == 0


SITE_ORIGINS = "https://lumen.example, https://docs.lumen.example"


@pytest.fixture
def site_client(loop):
    """A client whose runtime lists lumen.example as one of our own sites."""
    settings = loop.runtime.settings
    loop.runtime.settings = settings.model_copy(update={"site_origins": SITE_ORIGINS})
    with TestClient(create_app(loop.runtime)) as test_client:
        yield test_client


class TestClickIdentifiesTheVisitorOnOurSite:
    def click(self, loop, client, message, url, method="GET"):
        token = sign_click(message.lead_id, message.id, url, loop.runtime.settings.signing_key)
        response = client.request(
            method, f"/c/{token}", headers={"User-Agent": CHROME}, follow_redirects=False
        )
        assert response.status_code == 302
        return response.headers["location"]

    def test_a_link_to_our_site_carries_a_short_lived_identify_token(
        self, loop, site_client, message
    ):
        location = self.click(loop, site_client, message, GUIDE + "#setup")

        before, _, fragment = location.partition("#")
        assert fragment == "setup"
        assert before.startswith(GUIDE + "&nurture_id=")
        [token] = parse_qs(urlsplit(location).query)["nurture_id"]
        now = loop.clock.now()
        claim = verify_identify(token, loop.runtime.settings.signing_key, now)
        assert claim.lead_id == message.lead_id
        assert now + IDENTIFY_TTL - timedelta(seconds=1) <= claim.expires_at <= now + IDENTIFY_TTL
        with pytest.raises(BadToken, match="expired"):
            verify_identify(token, loop.runtime.settings.signing_key, now + IDENTIFY_TTL)

    @pytest.mark.parametrize(
        "url",
        [
            "https://lumen.example/pricing",
            "https://LUMEN.example:443/pricing",
            "https://docs.lumen.example/start/",
        ],
    )
    def test_every_configured_origin_gets_it(self, loop, site_client, message, url):
        location = self.click(loop, site_client, message, url)

        assert location.startswith(url + "?nurture_id=")

    @pytest.mark.parametrize(
        "url",
        [
            "https://partner.example/webinar?ref=lumen",
            "https://lumen.example.evil.example/",
            "https://lumen.example@evil.example/",
            "http://lumen.example/pricing",
            "https://lumen.example:8443/pricing",
        ],
    )
    def test_no_other_site_ever_sees_a_token(self, loop, site_client, message, url):
        assert self.click(loop, site_client, message, url) == url

    def test_nothing_is_added_when_no_site_is_configured(self, loop, client, message):
        assert self.click(loop, client, message, PRICING) == PRICING

    def test_a_head_probe_gets_the_plain_url(self, loop, site_client, message):
        assert self.click(loop, site_client, message, PRICING, method="HEAD") == PRICING

    def test_the_snippets_identify_call_joins_earlier_visits_to_the_lead(
        self, loop, site_client, message
    ):
        # Given a browser that read the pricing page before it was known
        origin = {"Origin": "https://lumen.example"}
        visitor = "vid-browser-0001"
        earlier = {"type": "page_view", "visitor_id": visitor, "url": PRICING}
        assert site_client.post("/v1/collect", json=earlier, headers=origin).status_code == 202
        # When the lead clicks a link in the email and the snippet posts the token
        location = self.click(loop, site_client, message, GUIDE)
        [token] = parse_qs(urlsplit(location).query)["nurture_id"]
        body = {"type": "identify", "visitor_id": visitor, "token": token}
        response = site_client.post("/v1/collect", json=body, headers=origin)
        # Then the earlier page view is the lead's
        assert response.status_code == 202, response.text
        lead = site_client.get(
            f"/v1/leads/{message.lead_id}", headers={"Authorization": f"Bearer {API_KEY}"}
        ).json()
        assert PRICING in {e["url"] for e in lead["recent_events"] if e["type"] == "visited"}
