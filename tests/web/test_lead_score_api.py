"""GET /v1/leads/{id}/score: why a lead is where it is, over HTTP, on both backends."""

from __future__ import annotations

from datetime import timedelta

from tests.support import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
EMAIL = "jordan.rivera@northwind.example"


def view(path: str, n: int) -> dict[str, object]:
    return {
        "type": "page_view",
        "email": EMAIL,
        "url": f"https://lumen.example{path}",
        "event_id": f"v{n}",
    }


def test_a_warm_lead_shows_its_points_the_rule_that_holds_and_what_mql_needs(client, loop):
    lead_id = loop.add_lead(
        EMAIL, title="Head of Product", country="US", attributes={"company_size": 240}
    )
    posted = client.post(
        "/v1/events", json=[view("/pricing", 1), view("/pricing/teams", 2)], headers=AUTH
    )
    assert posted.status_code == 202, posted.text
    loop.clock.advance(timedelta(days=30))  # one half-life later

    body = client.get(f"/v1/leads/{lead_id}/score", headers=AUTH).json()

    assert body["stage"] == "warm"
    assert body["holding_rule"] is None  # 22 points halved to 11: warm no longer holds
    assert body["score"]["fit_grade"] == "A"
    pricing = next(c for c in body["score"]["contributions"] if c["rule"] == "pricing-page")
    assert (pricing["raw"], pricing["points"], pricing["events"]) == (20.0, 10.0, 2)
    assert body["decay"] == {"half_life": "30d", "floor": 2.0}
    assert body["next_stage"] == "mql"
    assert body["needs"].startswith("needs 39 more engagement points")
    assert "hand-raiser (demo-request or contact-sales)" in body["needs"]
    [promotion] = body["history"]
    assert (promotion["from_stage"], promotion["to_stage"]) == ("cold", "warm")
    assert promotion["reason"]["rule"] == "warm: engagement >= 20"


def test_an_unknown_lead_is_404_with_the_reason(client):
    response = client.get("/v1/leads/999999/score", headers=AUTH)
    assert response.status_code == 404
    assert "no lead with id 999999" in response.text


def test_the_score_needs_the_api_key(client):
    assert client.get("/v1/leads/1/score").status_code == 401


def test_a_new_lead_is_graded_on_fit_and_regraded_when_its_title_changes(client, loop):
    lead = {"email": EMAIL, "title": "Head of Product", "country": "US",
            "attributes": {"company_size": 240}}  # fmt: skip
    created = client.post("/v1/leads", json=lead, headers=AUTH).json()["leads"][0]
    assert client.get(f"/v1/leads/{created['id']}", headers=AUTH).json()["fit_grade"] == "A"

    client.post("/v1/leads", json=lead | {"title": "Student intern"}, headers=AUTH)

    again = client.get(f"/v1/leads/{created['id']}", headers=AUTH).json()
    assert (again["fit_grade"], again["fit_points"]) == ("D", -5)  # 20 + 5 - 30 for a student
