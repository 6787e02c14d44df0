"""The click redirect adds a signed identify token only for links to our own site origins."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from nurture.errors import BadToken
from nurture.mail.tokens import (
    IDENTIFY_TTL,
    sign_click,
    verify_identify,
)
from nurture.web.app import create_app
from tests.support import API_KEY
from tests.web.tracking.conftest import CHROME, GUIDE, PRICING

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
