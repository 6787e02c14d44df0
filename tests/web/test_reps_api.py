"""GET /v1/reps and PUT /v1/reps/{name}/availability over HTTP, on both backends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nurture.config import load_funnel
from nurture.web.app import create_app
from tests.support import API_KEY, REPO, make_runtime

AUTH = {"Authorization": f"Bearer {API_KEY}"}
# make_runtime's clock: Monday 2026-11-23 09:00 UTC (04:00 in New York, 10:00 in Berlin)


@pytest.fixture
def client(database):
    runtime = make_runtime(database, load_funnel(REPO))
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def test_the_team_is_listed_with_who_is_at_work(client):
    response = client.get("/v1/reps", headers=AUTH)
    assert response.status_code == 200
    reps = {rep["name"]: rep for rep in response.json()}
    assert len(reps) == 7
    assert reps["Tom Becker"]["at_work"] is True  # 10:00 in Berlin
    assert reps["Priya Shah"]["at_work"] is False  # 04:00 in New York
    assert reps["Priya Shah"]["hours"] == "mon-fri 09:00-17:30 America/New_York"
    assert all(rep["available"] and rep["assigned_today"] == 0 for rep in reps.values())


def test_a_rep_marked_away_shows_it_and_null_brings_them_back(client):
    away = client.put(
        "/v1/reps/Lena Fischer/availability",
        json={"away_until": "2026-12-01T08:00:00+01:00"},
        headers=AUTH,
    )
    assert away.status_code == 200, away.text
    assert away.json()["away_until"] == "2026-12-01T07:00:00Z"
    assert away.json()["available"] is False
    listed = {rep["name"]: rep for rep in client.get("/v1/reps", headers=AUTH).json()}
    assert listed["Lena Fischer"]["available"] is False

    back = client.put("/v1/reps/Lena Fischer/availability", json={"away_until": None}, headers=AUTH)
    assert back.status_code == 200
    assert back.json()["away_until"] is None and back.json()["available"] is True


def test_an_unknown_rep_is_404_with_the_known_names(client):
    response = client.put(
        "/v1/reps/Lena Fisher/availability", json={"away_until": None}, headers=AUTH
    )
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "did you mean 'Lena Fischer'?" in detail
    assert "Priya Shah, Diego Morales, Tom Becker" in detail


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"away_until": "2026-12-01T08:00:00"}, 422),  # no offset: whose 08:00?
        ({"away_until": "2026-11-01T08:00:00Z"}, 422),  # already passed
        ({}, 422),
    ],
)
def test_an_unclear_instant_is_refused(client, body, status):
    response = client.put("/v1/reps/Tom Becker/availability", json=body, headers=AUTH)
    assert response.status_code == status
    listed = {rep["name"]: rep for rep in client.get("/v1/reps", headers=AUTH).json()}
    assert listed["Tom Becker"]["away_until"] is None


def test_an_api_key_is_needed(client):
    assert client.get("/v1/reps").status_code == 401
