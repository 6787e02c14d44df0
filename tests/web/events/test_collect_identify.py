"""A click from one of our emails identifies the browser on our own site: the snippet's
identify call to /v1/collect and its token, refused when forged, expired or foreign."""

from datetime import timedelta

import pytest

from nurture.mail.tokens import (
    IDENTIFY,
    IDENTIFY_TTL,
    sign,
    sign_click,
    sign_identify,
    sign_unsubscribe,
)
from nurture.store.models import Visitor
from tests.support import START
from tests.web.events.conftest import AUTH, SITE, VID, add_lead, count, stored


class TestCollectIdentify:
    """The snippet's identify call with the nurture_id a click from one of our emails put
    in the page's URL."""

    def token(self, client, lead_id, expires_at=START + IDENTIFY_TTL):
        key = client.app.state.runtime.settings.signing_key
        return sign_identify(lead_id, expires_at, key)

    def identify(self, client, token, visitor_id=VID):
        body = {"type": "identify", "visitor_id": visitor_id, "token": token}
        return client.post("/v1/collect", json=body, headers={"Origin": SITE})

    def visit(self, client, path):
        body = {"type": "page_view", "visitor_id": VID, "url": f"{SITE}{path}"}
        response = client.post("/v1/collect", json=body, headers={"Origin": SITE})
        assert response.status_code == 202, response.text

    def test_a_valid_token_joins_earlier_page_views_to_the_lead(self, client, database):
        lead_id = add_lead(client)
        self.visit(client, "/pricing")
        self.visit(client, "/docs")

        response = self.identify(client, self.token(client, lead_id))

        assert response.status_code == 202, response.text
        assert response.json() == {"identified": True}
        assert response.headers["access-control-allow-origin"] == SITE
        lead = client.get(f"/v1/leads/{lead_id}", headers=AUTH).json()
        urls = sorted(e["url"] for e in lead["recent_events"] if e["type"] == "visited")
        assert urls == [f"{SITE}/docs", f"{SITE}/pricing"]

    def test_later_page_views_of_the_visitor_go_to_the_lead_at_once(self, client, database):
        lead_id = add_lead(client)
        assert self.identify(client, self.token(client, lead_id)).status_code == 202

        self.visit(client, "/after")

        [event] = stored(database)
        assert event.lead_id == lead_id
        with database.unit_of_work(readonly=True) as uow:
            assert uow.session.get(Visitor, VID).lead_id == lead_id

    def test_an_expired_token_is_refused_and_changes_nothing(self, client, database):
        lead_id = add_lead(client)
        self.visit(client, "/pricing")

        response = self.identify(client, self.token(client, lead_id, expires_at=START))

        assert response.status_code == 400
        assert "expired" in response.json()["detail"]
        assert response.headers["access-control-allow-origin"] == SITE
        self.assert_unchanged(database)

    def test_a_token_works_until_its_expiry(self, client, database):
        lead_id = add_lead(client)
        token = self.token(client, lead_id, expires_at=START + timedelta(seconds=1))
        assert self.identify(client, token).status_code == 202

    def test_a_forged_token_is_refused_and_changes_nothing(self, client, database):
        lead_id = add_lead(client)
        self.visit(client, "/pricing")
        # Another lead's id with the first token's signature, and a token signed with
        # another key.
        mac = self.token(client, lead_id).split(".")[1]
        other_payload = self.token(client, lead_id + 1).split(".")[0]
        forged = [
            f"{other_payload}.{mac}",
            sign_identify(lead_id, START + IDENTIFY_TTL, b"k" * 32),
            "not-a-token",
        ]
        for token in forged:
            response = self.identify(client, token)
            assert response.status_code == 400, token
            assert "token" in response.json()["detail"]
        self.assert_unchanged(database)

    def test_a_click_or_unsubscribe_token_is_not_an_identify_token(self, client, database):
        lead_id = add_lead(client)
        self.visit(client, "/pricing")
        key = client.app.state.runtime.settings.signing_key
        for token in (
            sign_click(lead_id, 1, f"{SITE}/pricing", key),
            sign_unsubscribe(lead_id, 1, key),
            sign(IDENTIFY, f"lead:{lead_id}:msg:1", key),
        ):
            response = self.identify(client, token)
            assert response.status_code == 400
        self.assert_unchanged(database)

    def test_a_token_of_a_lead_since_erased_is_refused(self, client, database):
        self.visit(client, "/pricing")
        response = self.identify(client, self.token(client, 999_999))
        assert response.status_code == 400
        self.assert_unchanged(database)

    @pytest.mark.parametrize(
        "body",
        [
            {"type": "identify", "visitor_id": VID},
            {"type": "identify", "token": "x.y"},
            {"type": "identify", "visitor_id": "short", "token": "x.y"},
            {"type": "identify", "visitor_id": VID, "token": "x.y", "email": "a@b.example"},
        ],
    )
    def test_only_the_identify_shape_is_accepted(self, client, database, body):
        response = client.post("/v1/collect", json=body, headers={"Origin": SITE})
        assert response.status_code == 422
        assert count(database, Visitor) == 0

    def test_another_origin_is_refused(self, client, database):
        lead_id = add_lead(client)
        body = {"type": "identify", "visitor_id": VID, "token": self.token(client, lead_id)}
        response = client.post("/v1/collect", json=body, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403
        assert count(database, Visitor) == 0

    def assert_unchanged(self, database):
        assert {e.lead_id for e in stored(database)} == {None}
        with database.unit_of_work(readonly=True) as uow:
            assert uow.session.get(Visitor, VID).lead_id is None


class TestSnippetIdentify:
    def test_sends_the_token_and_removes_it_from_the_address_bar(self, client):
        source = client.get("/v1/js/nurture.js").text
        assert 'get("nurture_id")' in source
        assert 'type: "identify"' in source
        assert "history.replaceState(" in source
        # The token leaves the URL before the page view records location.href.
        assert source.index("takeIdentifyToken();") < source.index("pageView();")
