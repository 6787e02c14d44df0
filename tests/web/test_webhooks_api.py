"""POST /webhooks/<provider> over HTTP, on SQLite and PostgreSQL: real-format payloads signed
as each provider signs them (the builders and keys of tests/ingest), stored and shown on the
lead; retries stored once; rejected requests store nothing; unmatched events acknowledged."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from nurture.core.clock import FrozenClock
from nurture.core.scoring_model import EventFilter, HandRaiser
from nurture.ingest import MAX_BODY_BYTES
from nurture.mail.providers import MemoryProvider
from nurture.runtime import FunnelHolder, Runtime
from nurture.services.uow import Job
from nurture.settings import Settings
from nurture.store.models import Enrollment, Event, Lead, Message
from nurture.web.app import create_app
from tests.ingest import test_mailgun as mailgun
from tests.ingest import test_postmark as postmark
from tests.ingest import test_resend as resend
from tests.ingest import test_sendgrid as sendgrid
from tests.ingest.conftest import NOW
from tests.ingest.ses import conftest as ses
from tests.support import API_KEY, small_funnel

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MESSAGE_ID = 42  # the nurture_message_id in every tests/ingest payload
EMAIL = "ada@example.com"  # their recipient (as Ada@Example.com)
SECRETS = {
    "sendgrid_webhook_public_key": sendgrid.PUBLIC,
    "mailgun_webhook_signing_key": mailgun.KEY,
    "postmark_webhook_auth": postmark.AUTH,
    "ses_topic_arns": ses.TOPIC,
    "resend_webhook_secret": resend.SECRET,
}


def make_app(database, **settings: object):
    """The API over ``database``, every provider's webhook configured, the clock at the
    payloads' "now" (their signed timestamps are within the replay window)."""
    values = {"api_keys": API_KEY, "secret_key": "s" * 32, **SECRETS, **settings}
    runtime = Runtime(
        settings=Settings(**values),  # type: ignore[arg-type]
        database=database,
        funnels=FunnelHolder(Path(), small_funnel()),
        provider=MemoryProvider(),
        clock=FrozenClock(NOW),
    )
    return create_app(runtime)


@pytest.fixture
def client(database, httpserver):
    pattern = "^" + re.escape(httpserver.url_for("/"))
    with TestClient(make_app(database, ses_cert_url_pattern=pattern)) as test_client:
        yield test_client


@pytest.fixture
def lead_id(database) -> int:
    """Ada, who was sent message 42 a minute before the payloads' events."""
    sent = NOW - timedelta(minutes=5)
    with database.unit_of_work() as uow:
        lead = Lead(email=EMAIL, time_zone="UTC", stage="cold", created_at=sent, updated_at=sent)
        uow.session.add(lead)
        uow.session.flush()
        enrollment = Enrollment(
            lead_id=lead.id, sequence_id="cold-seq", stage="cold", current_step="pause",
            status="active", config_version="v-test", started_at=sent, updated_at=sent,
            next_run_at=NOW + timedelta(days=2),
        )  # fmt: skip
        uow.session.add(enrollment)
        uow.session.flush()
        uow.session.add(
            Message(
                id=MESSAGE_ID, enrollment_id=enrollment.id, lead_id=lead.id,
                sequence_id="cold-seq", step_id="hello", config_version="v-test",
                to_address=EMAIL, subject="Hello", status="sent", provider="sendgrid",
                provider_message_id=sendgrid.SG_ID.split(".")[0], created_at=sent,
                updated_at=sent, sent_at=sent,
            )
        )  # fmt: skip
        return lead.id


def stored(database) -> int:
    with database.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Event)) or 0


def lead_detail(client, lead_id):
    response = client.get(f"/v1/leads/{lead_id}", headers=AUTH)
    assert response.status_code == 200
    return response.json()


def post_sendgrid(client, events):
    body = json.dumps(events).encode()
    return client.post("/webhooks/sendgrid", content=body, headers=sendgrid.signed(body))


class TestEachProvider:
    def test_sendgrid_batch_in_one_request(self, client, database, lead_id):
        response = post_sendgrid(client, sendgrid.BATCH)
        assert response.status_code == 200, response.text
        parsed = sendgrid.parse()
        assert response.json() == {
            "stored": len(parsed.events),
            "duplicates": 0,
            "unmatched": 0,
            "ignored": len(parsed.ignored),
        }
        detail = lead_detail(client, lead_id)
        types = {e["type"] for e in detail["recent_events"]}
        assert {"delivered", "bounced", "opened", "clicked", "unsubscribed"} <= types
        mpp = next(e for e in detail["recent_events"] if e["machine"])
        assert (mpp["type"], mpp["machine_reason"]) == ("opened", "sendgrid sg_machine_open")
        click = next(e for e in detail["recent_events"] if e["type"] == "clicked")
        assert click["url"] == "https://example.com/pricing"
        assert detail["contact_status"] != "active"  # the batch bounced and unsubscribed
        assert detail["enrollments"][0]["status"] == "exited"

    def test_a_click_a_hand_raiser_rule_names_takes_the_fast_lane(self, database, lead_id):
        """The webhook route gives store_events the live funnel's hand-raisers: a lead whose
        click one of them matches is sent to process_hand_raisers, not behind page views."""
        base = small_funnel()
        raiser = HandRaiser("pricing-click", EventFilter("clicked", url="*/pricing"), "warm")
        funnel = replace(base, scoring=replace(base.scoring, hand_raisers=(raiser,)))
        app = make_app(database)
        app.state.runtime.funnels = FunnelHolder(Path(), funnel)
        sent: list[Job] = []
        database.dispatcher = sent.append
        with TestClient(app) as client:
            assert post_sendgrid(client, sendgrid.BATCH).status_code == 200
        lanes = [job for job in sent if job.actor.startswith("process_")]
        assert lanes == [Job("process_hand_raisers", ([lead_id],))]

    def test_mailgun(self, client, lead_id):
        raw = mailgun.body(mailgun.event("delivered"))
        response = client.post("/webhooks/mailgun", content=raw)
        assert response.json()["stored"] == 1, response.text
        [event] = lead_detail(client, lead_id)["recent_events"]
        assert (event["type"], event["machine"]) == ("delivered", False)

    def test_postmark(self, client, lead_id):
        response = client.post("/webhooks/postmark", json=postmark.OPEN, headers=postmark.basic())
        assert response.json()["stored"] == 1, response.text
        [event] = lead_detail(client, lead_id)["recent_events"]
        assert event["type"] == "opened"
        assert event["occurred_at"].startswith("2026-03-02T11:59:54")

    def test_ses_over_sns(self, client, httpserver, lead_id):
        httpserver.expect_request("/cert.pem").respond_with_data(ses.CERT_PEM)
        detail = {"timestamp": "2026-03-02T11:59:02Z", "bounceType": "Permanent",
                  "bouncedRecipients": [{"emailAddress": EMAIL, "status": "5.1.1"}]}  # fmt: skip
        raw = ses.notification(
            ses.ses_event("Bounce", "bounce", detail), httpserver.url_for("/cert.pem")
        )
        response = client.post("/webhooks/ses", content=raw)
        assert response.json()["stored"] == 1, response.text
        lead = lead_detail(client, lead_id)
        assert [e["type"] for e in lead["recent_events"]] == ["bounced"]
        assert lead["contact_status"] == "bounced"

    def test_ses_subscription_confirmation_is_confirmed(self, client, httpserver, database):
        httpserver.expect_request("/cert.pem").respond_with_data(ses.CERT_PEM)
        httpserver.expect_request("/confirm").respond_with_data("<ok/>")
        message = {
            "Type": "SubscriptionConfirmation", "MessageId": "165545c9", "Token": "2336",
            "TopicArn": ses.TOPIC, "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": httpserver.url_for("/confirm") + "?Action=ConfirmSubscription",
            "Timestamp": "2026-03-02T11:59:00.000Z",
            "SigningCertURL": httpserver.url_for("/cert.pem"),
        }  # fmt: skip
        response = client.post("/webhooks/ses", content=json.dumps(ses.sign(message)))
        assert response.status_code == 200, response.text
        assert [r.path for r, _ in httpserver.log][-1] == "/confirm"
        assert stored(database) == 0

    def test_resend(self, client, lead_id):
        raw = json.dumps(resend.event("email.complained")).encode()
        response = client.post("/webhooks/resend", content=raw, headers=resend.headers(raw))
        assert response.json()["stored"] == 1, response.text
        assert lead_detail(client, lead_id)["contact_status"] == "complained"


class TestDeliveryRules:
    def test_a_retried_delivery_is_stored_once(self, client, database, lead_id):
        events = [sendgrid.event("delivered")]
        assert post_sendgrid(client, events).json()["stored"] == 1
        again = post_sendgrid(client, events).json()
        assert (again["stored"], again["duplicates"]) == (0, 1)
        assert stored(database) == 1

    def test_unknown_message_and_recipient_is_acknowledged_not_stored(
        self, client, database, lead_id
    ):
        stray = sendgrid.event("delivered", email="nobody@else.example", nurture_message_id="7")
        response = post_sendgrid(client, [stray])
        assert response.status_code == 200
        assert response.json()["unmatched"] == 1
        assert stored(database) == 0

    def test_hard_bounce_stops_the_lead(self, client, database, lead_id):
        bounce = sendgrid.event("bounce", type="bounce", reason="550 5.1.1 user unknown")
        post_sendgrid(client, [bounce])
        lead = lead_detail(client, lead_id)
        assert lead["contact_status"] == "bounced"
        assert lead["enrollments"][0]["status"] == "exited"
        [event] = lead["recent_events"]
        assert (event["type"], event["bounce"], event["message_id"]) == ("bounced", "hard", 42)


class TestRejected:
    def test_forged_signature_is_401_and_stores_nothing(self, client, database, lead_id):
        body = json.dumps([sendgrid.event("delivered")]).encode()
        forged = sendgrid.signed(body + b" ")
        response = client.post("/webhooks/sendgrid", content=body, headers=forged)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert stored(database) == 0

    def test_wrong_basic_auth_is_401(self, client, database, lead_id):
        headers = postmark.basic("postmark:guess")
        response = client.post("/webhooks/postmark", json=postmark.OPEN, headers=headers)
        assert response.status_code == 401
        assert stored(database) == 0

    def test_malformed_body_is_400_with_the_reason(self, client, database, lead_id):
        response = client.post("/webhooks/postmark", content=b"{nope", headers=postmark.basic())
        assert response.status_code == 400
        assert "not JSON" in response.json()["detail"]
        assert stored(database) == 0

    def test_oversized_body_is_413(self, client, database):
        body = b"[" + b" " * MAX_BODY_BYTES + b"]"
        response = client.post("/webhooks/sendgrid", content=body, headers=sendgrid.signed(body))
        assert response.status_code == 413
        assert stored(database) == 0

    def test_oversized_streamed_body_is_413(self, client, database):
        chunks = (b" " * 1024 * 1024 for _ in range(6))  # no Content-Length: chunked
        response = client.post("/webhooks/postmark", content=chunks, headers=postmark.basic())
        assert response.status_code == 413

    def test_unconfigured_provider_is_404(self, database):
        with TestClient(make_app(database, resend_webhook_secret=None)) as client:
            raw = json.dumps(resend.event("email.delivered")).encode()
            response = client.post("/webhooks/resend", content=raw, headers=resend.headers(raw))
            assert response.status_code == 404
            assert client.post("/webhooks/brevo", content=b"[]").status_code == 404

    def test_mailgun_retry_after_a_failed_store_is_accepted_not_a_replay(
        self, database, lead_id, db_url
    ):
        """The token was spent by a request whose events were not stored (500): Mailgun
        retries the very same request, which must be stored, not refused as a replay."""
        raw = mailgun.body(mailgun.event("opened"))
        refuse_events(database, db_url)
        with TestClient(make_app(database), raise_server_exceptions=False) as client:
            assert client.post("/webhooks/mailgun", content=raw).status_code == 500
            assert stored(database) == 0
            accept_events(database, db_url)

            retry = client.post("/webhooks/mailgun", content=raw)

            assert retry.status_code == 200 and stored(database) == 1
            assert client.post("/webhooks/mailgun", content=raw).status_code == 401

    def test_mailgun_token_replayed_to_another_process_is_refused(self, database, lead_id):
        raw = mailgun.body(mailgun.event("opened"))
        with TestClient(make_app(database)) as one, TestClient(make_app(database)) as two:
            assert one.post("/webhooks/mailgun", content=raw).status_code == 200
            replay = two.post("/webhooks/mailgun", content=raw)
        assert replay.status_code == 401
        assert "token" in replay.json()["detail"]
        assert stored(database) == 1


def refuse_events(database, db_url) -> None:
    """The database refuses every event row (a failure while storing, after verification)."""
    with database.engine.begin() as conn:
        if db_url.startswith("sqlite"):
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )


def accept_events(database, db_url) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            text("DROP TRIGGER refuse" + ("" if db_url.startswith("sqlite") else " ON events"))
        )
