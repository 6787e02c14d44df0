"""Sales feedback over HTTP, on both backends: the API for CRMs and the signed one-click
links of a notification (GET confirms and changes nothing; the form's POST records)."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi.testclient import TestClient

from nurture.services.handoff_links import handoff_links
from tests.services.conftest import Loop
from tests.support import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
EMAIL = "jordan.rivera@northwind.example"


def mql(client: TestClient, loop: Loop, email: str = EMAIL) -> dict[str, object]:
    """A lead made MQL through the API; its open handoff as the API lists it."""
    loop.add_lead(email, first_name="Jordan", last_name="Rivera", title="Head of Product",
                  country="US", attributes={"company_size": 240})  # fmt: skip
    events = [
        {"type": "page_view", "email": email, "url": "https://l.example/pricing", "event_id": "1"},
        {"type": "page_view", "email": email, "url": "https://l.example/pricing/", "event_id": "2"},
        {"type": "trial_started", "email": email, "event_id": "3"},
        {"type": "download", "email": email, "event_id": "4"},
    ]
    assert client.post("/v1/events", json=events, headers=AUTH).status_code == 202
    [handoff] = client.get("/v1/handoffs?status=open", headers=AUTH).json()
    return handoff


def links(loop: Loop, handoff: dict[str, object]) -> dict[str, str]:
    settings = loop.runtime.settings
    found = handoff_links(
        settings.base_url, settings.signing_key, handoff["id"], handoff["lead_id"]
    )  # type: ignore[arg-type]
    return {name: urlparse(url).path for name, url in found.items()}


class TestApi:
    def test_accepting_moves_the_lead_to_sql(self, client, loop):
        handoff = mql(client, loop)
        assert (handoff["stage"], handoff["owner"]) == ("mql", "Priya Shah")
        response = client.post(
            f"/v1/handoffs/{handoff['id']}/feedback",
            json={"outcome": "accepted", "by": "priya@lumen-analytics.example"},
            headers=AUTH,
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "handoff_id": handoff["id"], "lead_id": handoff["lead_id"],
            "outcome": "accepted", "stage": "sql",
        }  # fmt: skip
        [sql] = client.get("/v1/handoffs?status=open", headers=AUTH).json()
        assert (sql["stage"], sql["team"]) == ("sql", "ae-americas")

    def test_a_second_answer_is_409_with_the_reason(self, client, loop):
        handoff = mql(client, loop)
        url = f"/v1/handoffs/{handoff['id']}/feedback"
        body = {"outcome": "rejected", "reason": "not_now", "by": "priya"}
        assert client.post(url, json=body, headers=AUTH).status_code == 200
        again = client.post(url, json={"outcome": "accepted"}, headers=AUTH)
        assert again.status_code == 409
        assert "already answered 'rejected' by priya" in again.json()["detail"]

    def test_a_rejection_without_reason_is_422_and_changes_nothing(self, client, loop):
        handoff = mql(client, loop)
        url = f"/v1/handoffs/{handoff['id']}/feedback"
        response = client.post(url, json={"outcome": "rejected"}, headers=AUTH)
        assert response.status_code == 422
        assert "a rejection needs a reason" in response.json()["detail"]
        assert client.get("/v1/handoffs?status=open", headers=AUTH).json()[0]["id"] == handoff["id"]

    def test_unknown_handoff_is_404_and_the_key_is_required(self, client):
        body = {"outcome": "won"}
        assert client.post("/v1/handoffs/999/feedback", json=body).status_code == 401
        missing = client.post("/v1/handoffs/999/feedback", json=body, headers=AUTH)
        assert missing.status_code == 404 and "no handoff with id 999" in missing.text


class TestLinks:
    def test_opening_a_link_confirms_and_changes_nothing(self, client, loop):
        handoff = mql(client, loop)
        page = client.get(links(loop, handoff)["accept"])
        assert page.status_code == 200
        assert "Accept this lead?" in page.text and "Jordan Rivera" in page.text
        assert client.get("/v1/handoffs?status=open", headers=AUTH).json()[0]["status"] == "open"

    def test_the_reject_form_records_the_reason_and_who(self, client, loop):
        handoff = mql(client, loop)
        path = links(loop, handoff)["reject"]
        assert 'name="reason"' in client.get(path).text
        done = client.post(path, data={"reason": "bad_fit", "note": "student project"})
        assert done.status_code == 200 and "Rejected" in done.text
        [answered] = client.get("/v1/handoffs?status=rejected", headers=AUTH).json()
        assert answered["outcome_reason"] == "bad_fit"
        lead = client.get(f"/v1/leads/{handoff['lead_id']}", headers=AUTH).json()
        assert lead["stage"] == "disqualified"
        assert lead["stage_changes"][0]["reason"]["by"] == "Priya Shah"
        assert lead["stage_changes"][0]["reason"]["via"] == "link"
        again = client.post(path, data={"reason": "not_now"})
        assert again.status_code == 409 and "already answered" in again.text

    def test_a_changed_link_is_not_valid(self, client, loop):
        handoff = mql(client, loop)
        path = links(loop, handoff)["won"]
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        assert client.get(forged).status_code == 404
        assert client.post(forged, data={}).status_code == 404
