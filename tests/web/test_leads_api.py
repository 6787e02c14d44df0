"""POST/GET /v1/leads on SQLite and PostgreSQL (the `database` fixture is parametrised)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nurture.store.models import Account, Enrollment, Lead
from nurture.web.app import create_app
from tests.support import API_KEY, START, make_runtime

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def client(database):
    with TestClient(create_app(make_runtime(database))) as test_client:
        yield test_client


def count(database, model):
    with database.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


class TestAuth:
    def test_no_key_is_refused_with_401(self, client):
        response = client.get("/v1/leads")
        assert response.status_code == 401
        assert "Authorization: Bearer" in response.json()["detail"]

    def test_wrong_key_is_refused_with_401(self, client):
        response = client.get("/v1/leads", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401

    def test_health_needs_no_key(self, client):
        assert client.get("/health").json() == {"status": "ok", "funnel_version": "v-test"}


class TestCreate:
    def test_new_lead_lands_in_the_initial_stage_and_is_enrolled(self, client, database):
        response = client.post(
            "/v1/leads",
            json={
                "email": " Jordan.Rivera@Northwind.Example ",
                "first_name": "Jordan",
                "country": "US",
                "attributes": {"company_size": 240},
            },
            headers=AUTH,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["created"] == 1
        lead_id = body["leads"][0]["id"]

        detail = client.get(f"/v1/leads/{lead_id}", headers=AUTH).json()
        assert detail["email"] == "jordan.rivera@northwind.example"
        assert detail["stage"] == "cold"
        assert detail["contact_status"] == "active"
        assert detail["time_zone"] == "America/New_York"  # derived from the country
        assert detail["account"]["domain"] == "northwind.example"
        [enrollment] = detail["enrollments"]
        assert enrollment["sequence_id"] == "cold-seq"
        assert enrollment["current_step"] == "hello"
        assert enrollment["status"] == "active"
        assert enrollment["config_version"] == "v-test"
        assert enrollment["next_run_at"].startswith(START.isoformat()[:19])

    def test_given_stage_is_used_for_a_new_lead(self, client):
        response = client.post(
            "/v1/leads", json={"email": "w@acme.example", "stage": "warm"}, headers=AUTH
        )
        lead_id = response.json()["leads"][0]["id"]
        detail = client.get(f"/v1/leads/{lead_id}", headers=AUTH).json()
        assert detail["stage"] == "warm"
        assert detail["enrollments"][0]["sequence_id"] == "warm-seq"

    def test_stage_without_sequence_creates_no_enrollment(self, client, database):
        client.post("/v1/leads", json={"email": "m@acme.example", "stage": "mql"}, headers=AUTH)
        assert count(database, Enrollment) == 0

    def test_free_mail_makes_no_account(self, client, database):
        client.post("/v1/leads", json={"email": "someone@gmail.com"}, headers=AUTH)
        assert count(database, Account) == 0

    def test_batch_creates_all_and_shares_the_account(self, client, database):
        batch = [{"email": f"user{i}@acme.example", "company": "Acme"} for i in range(250)]
        response = client.post("/v1/leads", json=batch, headers=AUTH)
        assert response.status_code == 201
        assert response.json()["created"] == 250
        assert count(database, Lead) == 250
        assert count(database, Account) == 1
        assert count(database, Enrollment) == 250


class TestUpsert:
    def test_same_data_again_changes_nothing(self, client, database):
        lead = {"email": "jo@acme.example", "first_name": "Jo", "attributes": {"plan": "pro"}}
        client.post("/v1/leads", json=lead, headers=AUTH)
        again = client.post("/v1/leads", json=lead, headers=AUTH)
        assert again.status_code == 200
        assert again.json()["unchanged"] == 1
        assert count(database, Lead) == 1
        assert count(database, Enrollment) == 1

    def test_update_changes_given_fields_only_and_merges_attributes(self, client):
        client.post(
            "/v1/leads",
            json={"email": "jo@acme.example", "first_name": "Jo", "attributes": {"a": 1}},
            headers=AUTH,
        )
        response = client.post(
            "/v1/leads",
            json={
                "email": "JO@acme.example",
                "title": "CTO",
                "stage": "sql",
                "attributes": {"b": 2},
            },
            headers=AUTH,
        )
        assert response.json()["updated"] == 1
        lead_id = response.json()["leads"][0]["id"]
        detail = client.get(f"/v1/leads/{lead_id}", headers=AUTH).json()
        assert detail["first_name"] == "Jo"
        assert detail["title"] == "CTO"
        assert detail["attributes"] == {"a": 1, "b": 2}
        assert detail["stage"] == "cold"  # stage changes go through the ladder


class TestBadInput:
    @pytest.mark.parametrize(
        ("lead", "expected"),
        [
            ({"email": "not-an-email"}, "email"),
            ({"email": "a@acme.example", "time_zone": "Mars/Base"}, "unknown time zone"),
            ({"email": "a@acme.example", "country": "XX"}, "unknown country code"),
            ({"email": "a@acme.example", "favourite": "x"}, "Extra inputs"),
            ({"first_name": "Jo"}, "email"),
        ],
    )
    def test_invalid_lead_is_refused_with_the_reason(self, client, database, lead, expected):
        response = client.post("/v1/leads", json=lead, headers=AUTH)
        assert response.status_code == 422
        assert expected in response.text
        assert count(database, Lead) == 0

    def test_unknown_stage_is_refused_with_a_suggestion(self, client, database):
        response = client.post(
            "/v1/leads", json={"email": "a@acme.example", "stage": "wram"}, headers=AUTH
        )
        assert response.status_code == 422
        assert "did you mean 'warm'?" in response.json()["detail"]
        assert count(database, Lead) == 0

    def test_one_bad_item_refuses_the_whole_batch(self, client, database):
        batch = [{"email": "ok@acme.example"}, {"email": "bad"}, {"email": "ok2@acme.example"}]
        response = client.post("/v1/leads", json=batch, headers=AUTH)
        assert response.status_code == 422
        assert count(database, Lead) == 0

    def test_batch_over_1000_is_refused(self, client, database):
        batch = [{"email": f"u{i}@acme.example"} for i in range(1001)]
        response = client.post("/v1/leads", json=batch, headers=AUTH)
        assert response.status_code == 422
        assert count(database, Lead) == 0

    def test_unknown_lead_is_404(self, client):
        response = client.get("/v1/leads/999999", headers=AUTH)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "no lead with id 999999"}


class TestList:
    def test_filters_by_stage_and_pages_by_id(self, client):
        client.post(
            "/v1/leads", json=[{"email": f"c{i}@acme.example"} for i in range(5)], headers=AUTH
        )
        client.post("/v1/leads", json={"email": "w@acme.example", "stage": "warm"}, headers=AUTH)

        first = client.get("/v1/leads?stage=cold&limit=3", headers=AUTH).json()
        assert [lead["email"] for lead in first["items"]] == [
            "c0@acme.example",
            "c1@acme.example",
            "c2@acme.example",
        ]
        second = client.get(
            f"/v1/leads?stage=cold&limit=3&after={first['next_after']}", headers=AUTH
        ).json()
        assert [lead["email"] for lead in second["items"]] == ["c3@acme.example", "c4@acme.example"]
        assert second["next_after"] is None
        warm = client.get("/v1/leads?stage=warm", headers=AUTH).json()
        assert [lead["email"] for lead in warm["items"]] == ["w@acme.example"]
