"""The full loop, as operators run it: ``nurture api``, ``nurture scheduler`` and ``dramatiq
workers`` on PostgreSQL and Redis; a local HTTP server plays Slack; email to the outbox.

A cold lead engages -> MQL -> the SDR is told on Slack with the reasons -> rejected
``not_now`` -> recycled sequence -> a later demo request -> SQL -> the account executive is
told -> won -> customer, and no more nurture email.
"""

from __future__ import annotations

import base64
import email
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.e2e.conftest import ALWAYS_OPEN, AUTH, start_engine, waiter, write_funnel
from tests.faults.harness import Processes

pytestmark = pytest.mark.slow


PIPELINE = (
    """\
version: 1
sequences:
  cold: cold-e2e
  recycled: recycled-e2e
"""
    + ALWAYS_OPEN
    + """\
scoring:
  engagement:
    rules:
      - {name: pricing-page, event: page_view, url: "*/pricing*", points: 10}
  hand_raisers:
    - {name: demo-request, event: demo_requested, stage: sql}
  ladder:
    mql: engagement >= 20
handoff:
  reps:
    - {name: Sam Diaz, email: sam@lumen-analytics.example, slack: U0SAM, team: sdr}
    - {name: Alex Kim, email: alex@lumen-analytics.example, slack: U0ALEX, team: ae}
  assignment:
    - {stage: mql, team: sdr}
    - {stage: sql, team: ae}
  channels: [slack, email]
"""
)

COLD = """\
id: cold-e2e
stages: [cold]
steps:
  - id: welcome
    send: {template: cold/welcome.html, subject: "Cold one"}
  - id: pause
    wait: 7d
"""

RECYCLED = """\
id: recycled-e2e
stages: [recycled]
steps:
  - id: check-in
    send: {template: recycled/check-in.html, subject: "Recycled one"}
  - id: pause
    wait: 7d
"""


def mail(outbox: Path) -> list[tuple[str, str]]:
    """(to, subject) of every email in the outbox, sorted."""
    found = []
    for path in outbox.glob("**/*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        found.append((str(message["To"]), str(message["Subject"])))
    return sorted(found)


def links_in(text: str) -> dict[str, str]:
    """The one-click answer links in a message, by the answer their signed token carries."""
    found = {}
    for url in re.findall(r"https?://[^\s\"|>]+/h/[A-Za-z0-9_.-]+", text):
        payload = url.rsplit("/", 1)[1].split(".")[0]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        found[decoded.rsplit(":", 1)[1]] = url
    return found


def slack_posts(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_the_full_loop_from_cold_to_customer(
    postgres_url: str, redis_url: str, processes: Processes, httpserver: HTTPServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    sequences = {"cold-e2e": COLD, "recycled-e2e": RECYCLED}
    base = start_engine(
        processes, tmp_path, postgres_url=postgres_url, redis_url=redis_url,
        funnel=write_funnel(tmp_path / "funnel", PIPELINE, sequences),
        settings={"NURTURE_SLACK_WEBHOOK_URL": httpserver.url_for("/slack")},
    )  # fmt: skip
    wait = waiter(processes)
    outbox = tmp_path / "var" / "outbox"
    lead_email = "ada@northwind.example"

    def post_events(*events: dict[str, Any]) -> None:
        answer = httpx.post(f"{base}/v1/events", json=list(events), headers=AUTH, timeout=5)
        assert answer.status_code == 202, answer.text

    def lead() -> dict[str, Any]:
        detail: dict[str, Any] = httpx.get(f"{base}/v1/leads/{lead_id}", headers=AUTH).json()
        return detail

    def open_handoff() -> dict[str, Any]:
        [found] = httpx.get(f"{base}/v1/handoffs?status=open", headers=AUTH).json()
        return dict(found)

    def feedback(handoff_id: int, **body: Any) -> None:
        url = f"{base}/v1/handoffs/{handoff_id}/feedback"
        answer = httpx.post(url, json=body, headers=AUTH, timeout=5)
        assert answer.status_code == 200, answer.text

    # A cold lead gets its cold email, then engages: MQL, and the SDR hears on Slack
    created = httpx.post(f"{base}/v1/leads", json={"email": lead_email}, headers=AUTH)
    lead_id = created.json()["leads"][0]["id"]
    wait(lambda: (lead_email, "Cold one") in mail(outbox), "the cold email")  # To: bare address
    post_events(*[
        {"type": "page_view", "email": lead_email, "event_id": f"v{n}",
         "url": f"https://lumen.example/pricing?p={n}"}
        for n in (1, 2)
    ])  # fmt: skip
    wait(lambda: lead()["stage"] == "mql", "promotion to MQL")
    wait(lambda: len(slack_posts(httpserver)) == 1, "the SDR's Slack message")
    sdr_message = json.dumps(slack_posts(httpserver)[0])
    assert "<@U0SAM>" in sdr_message  # mentioned, with the rule (Slack escapes ">")
    assert "mql: engagement &gt;= 20" in sdr_message and "pricing-page" in sdr_message
    wait(lambda: any("sam@lumen" in to for to, _ in mail(outbox)), "the SDR's email")
    mql = open_handoff()
    assert mql["owner"] == "Sam Diaz"

    # Sales says not now, with the reject button of the Slack message: the lead is recycled
    reject = links_in(sdr_message)["rejected"]
    assert "Reject this lead?" in httpx.get(reject, timeout=5).text  # GET only asks
    assert lead()["stage"] == "mql"
    done = httpx.post(reject, data={"reason": "not_now"}, timeout=5)
    assert done.status_code == 200, done.text
    assert lead()["stage"] == "recycled"
    assert lead()["stage_changes"][0]["reason"]["by"] == "Sam Diaz"
    wait(lambda: (lead_email, "Recycled one") in mail(outbox), "the recycled email")

    # Later a demo request: SQL at once, the account executive hears
    post_events({"type": "demo_requested", "email": lead_email, "event_id": "demo-1"})
    wait(lambda: lead()["stage"] == "sql", "the hand-raiser")
    wait(lambda: len(slack_posts(httpserver)) == 2, "the AE's Slack message")
    assert "<@U0ALEX>" in json.dumps(slack_posts(httpserver)[1])
    sql = open_handoff()
    assert (sql["stage"], sql["owner"]) == ("sql", "Alex Kim")

    # Won: a customer, out of all nurture
    feedback(sql["id"], outcome="won", by="alex")
    assert lead()["stage"] == "customer"
    assert all(e["status"] != "active" for e in lead()["enrollments"])
    to_lead = [m for m in mail(outbox) if m[0] == lead_email]
    processes.check_alive()
    assert to_lead == [(lead_email, "Cold one"), (lead_email, "Recycled one")]
