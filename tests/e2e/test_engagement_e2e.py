"""A hard bounce, end to end, as operators run the engine: ``nurture api``, ``nurture
scheduler`` and ``dramatiq workers`` processes on PostgreSQL and Redis, sending through the
SendGrid provider to a local server that answers like SendGrid's Mail Send API.

The lead's first email goes out carrying our message id in ``custom_args``; SendGrid's
signed Event Webhook then reports a hard bounce for it; the lead shows the event and the
``bounced`` status over the API, its enrollment has exited, and the second email (due a few
seconds after the first) is never sent.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.e2e.conftest import ALWAYS_OPEN, AUTH, start_engine, write_funnel
from tests.faults.harness import Processes, wait_until

pytestmark = pytest.mark.slow

SG_MESSAGE_ID = "W86EgYT6SQKk0lRflfLRsA"  # what our SendGrid answers in X-Message-Id
SECOND_AFTER_S = 12  # the funnel's wait between the two emails

PIPELINE = (
    """\
version: 1
sequences:
  cold: bounce-e2e
"""
    + ALWAYS_OPEN
)

SEQUENCE = f"""\
id: bounce-e2e
stages: [cold]
steps:
  - id: welcome
    send: {{template: cold/welcome.html, subject: "Welcome, {{{{ lead.first_name }}}}"}}
  - id: pause
    wait: {SECOND_AFTER_S}s
  - id: second
    send: {{template: cold/metrics-guide.html, subject: "Second, {{{{ lead.first_name }}}}"}}
  - id: done
    exit: completed
"""


class SendGridKey:
    """A P-256 key pair as SendGrid holds one; the public half as its console shows it."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public = base64.b64encode(der).decode()

    def signed_post(self, url: str, events: list[dict[str, Any]]) -> httpx.Response:
        body = json.dumps(events).encode()
        timestamp = str(int(time.time()))
        signature = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers = {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
        return httpx.post(url, content=body, headers=headers, timeout=10)


@pytest.fixture
def sendgrid_api(httpserver: HTTPServer) -> HTTPServer:
    """Mail Send as SendGrid answers it: 202, empty body, the id in X-Message-Id."""
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_response(
        Response(status=202, headers={"X-Message-Id": SG_MESSAGE_ID})
    )
    return httpserver


def sends(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_hard_bounce_reported_by_webhook_stops_the_lead(
    postgres_url: str,
    redis_url: str,
    processes: Processes,
    sendgrid_api: HTTPServer,
    tmp_path: Path,
) -> None:
    key = SendGridKey()
    base = start_engine(
        processes, tmp_path, postgres_url=postgres_url, redis_url=redis_url,
        funnel=write_funnel(tmp_path / "funnel", PIPELINE, {"bounce-e2e": SEQUENCE}),
        settings={
            "NURTURE_PROVIDER": "sendgrid",
            "NURTURE_SENDGRID_API_KEY": "SG.e2e-test-key",
            "NURTURE_SENDGRID_BASE_URL": sendgrid_api.url_for("").rstrip("/"),
            "NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY": key.public,
            "NURTURE_LOG_LEVEL": "info",
        },
        scheduler_args=("--reconcile-every-seconds", "1"),
    )  # fmt: skip

    # Given a new lead, enrolled at once: its first email goes out through SendGrid
    created = httpx.post(
        f"{base}/v1/leads",
        json={"email": "Ada@Example.com", "first_name": "Ada", "time_zone": "UTC"},
        headers=AUTH,
    )
    assert created.status_code == 201, created.text
    lead_id = created.json()["leads"][0]["id"]

    def lead() -> dict[str, Any]:
        response = httpx.get(f"{base}/v1/leads/{lead_id}", headers=AUTH, timeout=5)
        assert response.status_code == 200, response.text
        detail: dict[str, Any] = response.json()
        return detail

    wait_until(lambda: sends(sendgrid_api), timeout=30, what="the first send", processes=processes)
    sent_at = time.monotonic()
    (payload,) = sends(sendgrid_api)
    assert payload["personalizations"] == [{"to": [{"email": "ada@example.com"}]}]
    message_id = payload["custom_args"]["nurture_message_id"]
    assert message_id.isdigit()

    # When SendGrid reports a hard bounce for it, signed
    bounce = {
        "email": "ada@example.com",
        "timestamp": int(time.time()),
        "smtp-id": f"<{SG_MESSAGE_ID}@geopod-ismtpd-3>",
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "sg_event_id": "Ym91bmNlLTAtMjU0MzQ0NDYtVzg2RWdZVDZTUUtr",
        "sg_message_id": f"{SG_MESSAGE_ID}.filter0001.16648.5515E0B88.0",
        "nurture_message_id": message_id,
    }
    answer = key.signed_post(f"{base}/webhooks/sendgrid", [bounce])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"stored": 1, "duplicates": 0, "unmatched": 0, "ignored": 0}

    # Then the lead shows the event and is bounced; its enrollment has exited
    detail = lead()
    assert detail["contact_status"] == "bounced"
    (event,) = [e for e in detail["recent_events"] if e["source"] == "sendgrid"]
    assert event["type"] == "bounced"
    assert event["bounce"] == "hard"
    assert event["message_id"] == int(message_id)
    (enrollment,) = detail["enrollments"]
    assert enrollment["status"] == "exited"

    # And the second email, due SECOND_AFTER_S after the first, never goes out
    time.sleep(max(0.0, sent_at + SECOND_AFTER_S + 4 - time.monotonic()))
    processes.check_alive()
    assert len(sends(sendgrid_api)) == 1
    assert lead()["enrollments"][0]["status"] == "exited"
