"""The notification actors on the in-process broker with worker threads, as `nurture run`
and the notifier process run them: a channel that hangs delays only its own rows."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from dramatiq import Worker
from sqlalchemy import select

from nurture.core.clock import FrozenClock
from nurture.mail.providers import MemoryProvider
from nurture.runtime import FunnelHolder, Runtime
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.site_event_input import parse_events
from nurture.services.site_events import RequestMeta, record_site_events
from nurture.services.uow import Database
from nurture.settings import Settings
from nurture.store.db import make_engine
from nurture.store.models import Notification
from tests.handoff.conftest import insert_notification
from tests.services.conftest import MONDAY_9AM_CHICAGO
from tests.support import API_KEY
from workers import broker, dispatch
from workers.actors import deliver_notification
from workers.runtime import set_runtime

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 1.5  # the HTTP timeout: each Slack message hangs this long


@pytest.fixture
def hanging_slack():
    """A Slack that accepts connections and never answers (its backlog does the accepting)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/slack"


@pytest.fixture
def runtime(db_url, tmp_path, hanging_slack, httpserver):
    httpserver.expect_request("/crm").respond_with_data("", status=204)
    broker.flush_all()
    settings = Settings(
        api_keys=API_KEY,
        secret_key="s" * 32,
        var_dir=tmp_path,
        slack_webhook_url=hanging_slack,
        crm_webhook_url=httpserver.url_for("/crm"),
        crm_webhook_secret="c" * 32,
        http_timeout_seconds=TIMEOUT_S,
    )
    rt = Runtime(
        settings=settings,
        database=Database(make_engine(db_url), dispatch),
        funnels=FunnelHolder.load(REPO),
        provider=MemoryProvider(),
        clock=FrozenClock(MONDAY_9AM_CHICAGO),
    )
    set_runtime(rt)
    worker = Worker(broker, worker_threads=3, worker_timeout=50)
    worker.start()
    yield rt
    worker.stop()
    set_runtime(None)
    broker.flush_all()
    rt.database.engine.dispose()


def statuses(rt: Runtime) -> dict[str, list[str]]:
    with rt.database.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(
            select(Notification.channel, Notification.status).order_by(Notification.id)
        ).all()
    found: dict[str, list[str]] = {}
    for channel, status in rows:
        found.setdefault(channel, []).append(status)
    return found


def demo_requests(rt: Runtime, count: int) -> None:
    now = rt.clock.now()
    leads = [LeadIn.model_validate({"email": f"buyer{n}@co{n}.example"}) for n in range(count)]
    with rt.database.unit_of_work() as uow:
        upsert_leads(uow.session, rt.funnels.current, leads, now=now, default_time_zone="UTC")
    broker.join("engagement", timeout=30_000)
    now = rt.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    raw = [
        {"type": "demo_requested", "email": f"buyer{n}@co{n}.example", "event_id": f"d{n}"}
        for n in range(count)
    ]
    events = parse_events(raw, now, max_items=100, public=False)
    with rt.database.unit_of_work() as uow:
        record_site_events(
            uow.session, uow.jobs, rt.funnels.current, events,
            now=now, source="website", meta=RequestMeta(), default_time_zone="UTC",
        )  # fmt: skip


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_slack_hanging_does_not_delay_the_crm_and_email_of_the_same_handoffs(runtime):
    # Given Slack hanging on every message, When three demo requests are handed off together
    demo_requests(runtime, 3)
    broker.join("handoffs", timeout=30_000)  # the leads handed off, their rows written
    assert statuses(runtime) != {}

    # Then the CRM webhook and the owners' email go out while Slack still hangs on the first
    def others_sent() -> bool:
        found = statuses(runtime)
        return found.get("webhook") == ["sent"] * 3 and found.get("email") == ["sent"] * 3

    assert wait_for(others_sent, TIMEOUT_S * 0.9), statuses(runtime)
    assert statuses(runtime)["slack"] == ["sending"] * 3
    assert len(runtime.provider.sent) == 3  # type: ignore[attr-defined]
    # And Slack's rows wait for their retry, each tried once
    broker.join("notifications", timeout=30_000)
    assert statuses(runtime)["slack"] == ["pending"] * 3


def test_a_single_id_job_still_delivers(runtime):
    with runtime.database.unit_of_work() as uow:
        row_id = insert_notification(uow.session, "webhook", runtime.clock.now())

    deliver_notification.send(row_id)
    broker.join("notifications", timeout=10_000)

    assert statuses(runtime) == {"webhook": ["sent"]}
