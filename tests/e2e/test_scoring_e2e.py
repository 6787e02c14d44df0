"""Promotion end to end, as operators run the engine: ``nurture api``, ``nurture scheduler``
and ``dramatiq workers`` processes on PostgreSQL and Redis, email to the outbox.

A cold lead gets its cold email; the website posts two pricing-page views; a worker rescores
the lead, which becomes warm with the reason written down, leaves the cold sequence and gets
the warm sequence's email instead of the cold one's second; a demo request then makes it SQL
at once and nothing more is sent.
"""

from __future__ import annotations

import email
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ALWAYS_OPEN, AUTH, start_engine, write_funnel
from tests.faults.harness import Processes, wait_until

pytestmark = pytest.mark.slow


PIPELINE = (
    """\
version: 1
sequences:
  cold: cold-e2e
  warm: warm-e2e
"""
    + ALWAYS_OPEN
    + """\
scoring:
  engagement:
    half_life: 30d
    rules:
      - {name: pricing-page, event: page_view, url: "*/pricing*", points: 10}
  hand_raisers:
    - {name: demo-request, event: demo_requested, stage: sql}
  ladder:
    warm: engagement >= 20
"""
)

COLD = """\
id: cold-e2e
stages: [cold]
steps:
  - id: welcome
    send: {template: cold/welcome.html, subject: "Cold one"}
  - id: pause
    wait: 1d
  - id: second
    send: {template: cold/metrics-guide.html, subject: "Cold two"}
"""

WARM = """\
id: warm-e2e
stages: [warm]
steps:
  - id: guide
    send: {template: warm/buyers-guide.html, subject: "Warm one"}
  - id: pause
    wait: 1d
"""


def subjects(outbox: Path) -> list[str]:
    found = []
    for path in sorted(outbox.glob("**/*.eml")):
        found.append(str(email.message_from_bytes(path.read_bytes())["Subject"]))
    return sorted(found)


def test_site_engagement_promotes_a_lead_and_switches_its_sequence(
    postgres_url: str, redis_url: str, processes: Processes, tmp_path: Path
) -> None:
    folder = write_funnel(tmp_path / "funnel", PIPELINE, {"cold-e2e": COLD, "warm-e2e": WARM})
    base = start_engine(
        processes, tmp_path, postgres_url=postgres_url, redis_url=redis_url, funnel=folder
    )
    outbox = tmp_path / "var" / "outbox"

    # Given a cold lead who has received the first cold email
    created = httpx.post(
        f"{base}/v1/leads", json={"email": "ada@example.com", "time_zone": "UTC"}, headers=AUTH
    )
    assert created.status_code == 201, created.text
    lead_id = created.json()["leads"][0]["id"]

    def lead() -> dict[str, Any]:
        response = httpx.get(f"{base}/v1/leads/{lead_id}", headers=AUTH, timeout=5)
        assert response.status_code == 200, response.text
        detail: dict[str, Any] = response.json()
        return detail

    wait_until(lambda: subjects(outbox) == ["Cold one"], timeout=30, what="the cold email",
               processes=processes)  # fmt: skip

    # When the website reports two pricing-page views
    views = [
        {"type": "page_view", "email": "ada@example.com", "event_id": f"v{n}",
         "url": f"https://lumen.example/pricing?plan={n}"}
        for n in (1, 2)
    ]  # fmt: skip
    posted = httpx.post(f"{base}/v1/events", json=views, headers=AUTH, timeout=5)
    assert posted.status_code == 202, posted.text

    # Then the lead is warm, says why, and gets the warm sequence's email
    wait_until(lambda: lead()["stage"] == "warm", timeout=30, what="promotion to warm",
               processes=processes)  # fmt: skip
    detail = lead()
    (change,) = detail["stage_changes"]
    assert (change["from_stage"], change["to_stage"]) == ("cold", "warm")
    assert change["reason"]["rule"] == "warm: engagement >= 20"
    assert detail["engagement"] == 20.0
    by_sequence = {e["sequence_id"]: e for e in detail["enrollments"]}
    assert by_sequence["cold-e2e"]["status"] == "exited"
    wait_until(lambda: subjects(outbox) == ["Cold one", "Warm one"], timeout=30,
               what="the warm email", processes=processes)  # fmt: skip

    # And a demo request makes it SQL at once, which runs no sequence
    demo = {"type": "demo_requested", "email": "ada@example.com", "event_id": "demo-1"}
    assert httpx.post(f"{base}/v1/events", json=demo, headers=AUTH, timeout=5).status_code == 202
    wait_until(lambda: lead()["stage"] == "sql", timeout=30, what="the hand-raiser",
               processes=processes)  # fmt: skip
    score = httpx.get(f"{base}/v1/leads/{lead_id}/score", headers=AUTH, timeout=5).json()
    assert score["history"][0]["reason"]["rule"] == "hand-raiser demo-request"
    processes.check_alive()
    assert subjects(outbox) == ["Cold one", "Warm one"]
