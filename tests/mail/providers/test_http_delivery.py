"""An HTTP provider inside the sending loop: the shipped funnel's first email goes to a
local server answering like SendGrid, through ``nurture.services.delivery.deliver``."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from nurture.core.clock import FrozenClock
from nurture.mail.providers import MemoryProvider, SendGridProvider
from nurture.services.uow import Database
from tests.services.conftest import MONDAY_9AM_CHICAGO, Loop
from tests.support import shipped_runtime

SENDGRID_ID = "W86EgYT6SQKk0lRflfLRsA"


@pytest.fixture
def loop(database: Database, tmp_path: Path, httpserver: HTTPServer) -> Iterator[Loop]:
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    harness = Loop(
        shipped_runtime(database, tmp_path, MemoryProvider(), clock), clock, MemoryProvider()
    )
    sendgrid = SendGridProvider("SG.test-key", base_url=httpserver.url_for("/").rstrip("/"))
    harness.runtime.provider = sendgrid
    database.dispatcher = harness.run_job
    yield harness
    sendgrid.close()


def test_a_500_then_a_202_gives_one_sent_email_with_sendgrids_id(loop, httpserver):
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_json(
        {"errors": [{"message": "Internal server error", "field": None, "help": None}]},
        status=500,
    )
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_response(
        Response(b"", status=202, headers={"X-Message-Id": SENDGRID_ID})
    )
    lead_id = loop.add_lead()

    loop.step()
    [message] = loop.messages(lead_id)
    assert message.status == "queued" and "500" in message.error
    [retry] = loop.retries
    loop.run_job(retry)

    [message] = loop.messages(lead_id)
    assert (message.status, message.attempts) == ("sent", 2)
    assert (message.provider, message.provider_message_id) == ("sendgrid", SENDGRID_ID)
    bodies = [request.get_json() for request, _ in httpserver.log]
    assert [b["custom_args"] for b in bodies] == [{"nurture_message_id": str(message.id)}] * 2
    assert bodies[1]["personalizations"][0]["to"] == [{"email": "jordan@northwind.example"}]
