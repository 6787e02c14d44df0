"""POST /v1/events, POST /v1/collect and GET /v1/js/nurture.js over HTTP, on SQLite and
PostgreSQL: batches, all-or-nothing validation, idempotency, who becomes a lead, the
browser endpoint's limits and CORS, the snippet."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from nurture.store.models import Event, Lead, Visitor
from nurture.web.app import create_app
from nurture.web.routes import events as events_route
from tests.support import START, make_runtime
from tests.web.events.conftest import AUTH, SITE, VID, add_lead, count, stored


class TestPostEvents:
    def test_needs_an_api_key(self, client, database):
        response = client.post("/v1/events", json={"type": "page_view", "visitor_id": VID})
        assert response.status_code == 401
        assert count(database, Event) == 0

    def test_one_event_of_a_known_lead_is_stored_in_the_funnels_vocabulary(self, client, database):
        lead_id = add_lead(client)
        response = client.post(
            "/v1/events",
            json={
                "type": "pricing_viewed",
                "email": "Jordan@Northwind.example",
                "url": "https://www.lumen.example/pricing",
                "properties": {"plan": "team"},
            },
            headers=AUTH | {"User-Agent": "python-requests/2.32"},
        )
        assert response.status_code == 202, response.text
        assert response.json() == {"stored": 1, "duplicates": 0, "anonymous": 0}
        [event] = stored(database)
        assert (event.lead_id, event.type, event.source) == (
            lead_id,
            "custom:pricing_viewed",
            "website",
        )
        assert event.data == {"event": "pricing_viewed", "properties": {"plan": "team"}}
        assert event.occurred_at == START
        # The site's own server is no crawler: its user agent is recorded, not held against it
        assert (event.user_agent, event.machine) == ("python-requests/2.32", False)

    def test_a_batch_is_stored_in_one_go(self, client, database):
        add_lead(client)
        batch = [
            {"type": "page_view", "email": "jordan@northwind.example", "title": "Home"},
            {"type": "download", "email": "jordan@northwind.example"},
            {"type": "page_view", "visitor_id": VID, "url": "https://www.lumen.example/"},
            {"type": "onboarding_done", "email": "jordan@northwind.example"},
        ]
        response = client.post("/v1/events", json=batch, headers=AUTH)
        assert response.json() == {"stored": 4, "duplicates": 0, "anonymous": 1}
        types = sorted(e.type for e in stored(database))
        assert types == ["custom:download", "custom:onboarding_done", "visited", "visited"]

    def test_an_invalid_item_is_reported_with_its_index_and_nothing_is_stored(
        self, client, database
    ):
        batch = [
            {"type": "page_view", "visitor_id": VID},
            {"type": "Pricing Viewed", "visitor_id": VID},
            {"type": "download"},
            {"type": "page_view", "visitor_id": VID, "occurred_at": "2026-11-23T10:00:00"},
        ]
        response = client.post("/v1/events", json=batch, headers=AUTH)
        assert response.status_code == 422
        problems = {(p["index"], p["field"]) for p in response.json()["errors"]}
        assert problems == {(1, "type"), (2, "email"), (3, "occurred_at")}
        assert count(database, Event) == 0

    @pytest.mark.parametrize(
        ("event", "field"),
        [
            ({"type": "page_view", "email": "not-an-email"}, "email"),
            ({"type": "page_view", "visitor_id": "short"}, "visitor_id"),
            ({"type": "page_view", "visitor_id": VID, "url": "javascript:alert(1)"}, "url"),
            ({"type": "page_view", "visitor_id": VID, "ip": "300.1.1.1"}, "ip"),
            ({"type": "page_view", "visitor_id": VID, "colour": "red"}, "colour"),
            ({"type": "x" * 34, "visitor_id": VID}, "type"),
            (
                {"type": "page_view", "visitor_id": VID, "properties": {"k": "v" * 5000}},
                "properties",
            ),
        ],
    )
    def test_a_bad_field_is_named(self, client, database, event, field):
        response = client.post("/v1/events", json=event, headers=AUTH)
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["errors"]] == [field]
        assert count(database, Event) == 0

    def test_occurred_at_a_little_ahead_is_fine_further_is_refused(self, client, database):
        def post(ahead):
            at = (START + ahead).isoformat()
            event = {"type": "page_view", "visitor_id": VID, "occurred_at": at}
            return client.post("/v1/events", json=event, headers=AUTH).status_code

        assert post(timedelta(minutes=4)) == 202
        assert post(timedelta(minutes=6)) == 422

    def test_a_batch_over_1000_is_refused(self, client, database):
        batch = [{"type": "page_view", "visitor_id": VID}] * 1001
        assert client.post("/v1/events", json=batch, headers=AUTH).status_code == 422
        assert count(database, Event) == 0

    def test_a_repeated_event_id_is_stored_once(self, client, database):
        event = {"type": "download", "visitor_id": VID, "event_id": "dl-42"}
        first = client.post("/v1/events", json=[event, event], headers=AUTH).json()
        again = client.post("/v1/events", json=event, headers=AUTH).json()
        assert first == {"stored": 1, "duplicates": 1, "anonymous": 1}
        assert again == {"stored": 0, "duplicates": 1, "anonymous": 0}
        assert count(database, Event) == 1


class TestWhoIsTheLead:
    def test_a_demo_request_from_an_unknown_email_creates_the_lead(self, client, database):
        response = client.post(
            "/v1/events", json={"type": "demo_requested", "email": "sam@acme.example"},
            headers=AUTH,
        )  # fmt: skip
        assert response.json()["anonymous"] == 0
        with database.unit_of_work(readonly=True) as uow:
            lead = uow.session.scalars(select(Lead)).one()
        assert (lead.email, lead.stage, lead.source) == ("sam@acme.example", "cold", "website")
        assert stored(database)[0].lead_id == lead.id

    def test_other_events_of_an_unknown_email_wait_anonymous_until_it_is_a_lead(
        self, client, database
    ):
        body = {"type": "trial_started", "email": "sam@acme.example"}
        assert client.post("/v1/events", json=body, headers=AUTH).json()["anonymous"] == 1
        assert count(database, Lead) == 0
        [event] = stored(database)
        assert event.data["email"] == "sam@acme.example"

        lead_id = add_lead(client, "sam@acme.example")
        client.post("/v1/events", json={"type": "page_view", "email": "sam@acme.example"},
                    headers=AUTH)  # fmt: skip
        assert {e.lead_id for e in stored(database)} == {lead_id}


class TestCollect:
    def page_view(self, **fields):
        return {"type": "page_view", "visitor_id": VID, "url": f"{SITE}/pricing"} | fields

    def test_a_page_view_from_a_configured_site_is_stored_with_cors(self, client, database):
        response = client.post(
            "/v1/collect",
            content=f'{{"type":"page_view","visitor_id":"{VID}","title":"Pricing"}}',
            headers={"Origin": SITE, "Content-Type": "text/plain", "User-Agent": "Mozilla/5.0"},
        )
        assert response.status_code == 202, response.text
        assert response.headers["access-control-allow-origin"] == SITE
        [event] = stored(database)
        assert (event.source, event.lead_id, event.visitor_id) == ("website-js", None, VID)
        assert (event.user_agent, event.ip, event.machine) == ("Mozilla/5.0", "testclient", False)
        assert count(database, Visitor) == 1

    def test_the_other_configured_origin_is_answered_too(self, client):
        origin = "https://docs.lumen.example"
        response = client.post("/v1/collect", json=self.page_view(), headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin

    @pytest.mark.parametrize("origin", ["https://evil.example", None])
    def test_another_origin_is_refused_without_cors(self, client, database, origin):
        headers = {"Origin": origin} if origin else {}
        response = client.post("/v1/collect", json=self.page_view(), headers=headers)
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers
        assert count(database, Event) == 0

    def test_preflight_is_answered_for_configured_origins_only(self, client):
        ok = client.options("/v1/collect", headers={"Origin": SITE})
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == SITE
        refused = client.options("/v1/collect", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in refused.headers

    @pytest.mark.parametrize(
        "body",
        [
            {"type": "pricing_viewed", "visitor_id": VID},
            {"type": "signup_done", "visitor_id": VID},
            {"type": "page_view", "visitor_id": VID, "email": "sam@acme.example"},
            {"type": "page_view", "email": "sam@acme.example"},
            {"type": "page_view", "visitor_id": VID, "user_agent": "Mozilla/5.0"},
            [{"type": "page_view", "visitor_id": VID}],
        ],
    )
    def test_refuses_anything_but_an_anonymous_page_view(self, client, database, body):
        response = client.post("/v1/collect", json=body, headers={"Origin": SITE})
        assert response.status_code == 422
        assert response.headers["access-control-allow-origin"] == SITE
        assert count(database, Event) == 0

    def test_an_oversized_body_is_refused(self, client, database):
        body = self.page_view(properties={"k": "v" * 9000})
        response = client.post("/v1/collect", json=body, headers={"Origin": SITE})
        assert response.status_code == 422
        assert "too large" in response.text

    def test_a_crawler_is_stored_as_machine(self, client, database):
        headers = {"Origin": SITE, "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
        client.post("/v1/collect", json=self.page_view(), headers=headers)
        [event] = stored(database)
        assert event.machine and "bot" in (event.machine_reason or "")

    def test_too_many_page_views_from_one_ip_are_refused(self, client, monkeypatch):
        monkeypatch.setattr(events_route, "COLLECT_PER_MINUTE", 2)
        codes = [
            client.post("/v1/collect", json=self.page_view(), headers={"Origin": SITE}).status_code
            for _ in range(3)
        ]
        assert codes == [202, 202, 429]

    def test_is_404_when_no_site_is_configured(self, database):
        with TestClient(create_app(make_runtime(database))) as bare:
            response = bare.post("/v1/collect", json=self.page_view(), headers={"Origin": SITE})
        assert response.status_code == 404


class TestSnippet:
    def test_is_served_without_auth_and_cacheable(self, client):
        response = client.get("/v1/js/nurture.js")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert "max-age" in response.headers["cache-control"]
        assert "nurture_vid" in response.text
        assert "SameSite=Lax" in response.text
        assert "/v1/collect" in response.text
