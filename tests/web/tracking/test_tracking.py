"""/c/{token} click redirect and /o/{token}.gif open pixel on SQLite and PostgreSQL, for an
email the sending loop really sent: where the redirect goes, what is stored, and which
requests are classified as machines."""

import html as html_lib
import logging
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from nurture.core.scoring_model import EventFilter, HandRaiser
from nurture.mail.tokens import (
    sign_unsubscribe,
    verify_click,
)
from nurture.runtime import FunnelHolder
from nurture.services.uow import Job
from nurture.store.models import Event
from tests.web.tracking.conftest import (
    CHROME,
    GMAIL_PROXY,
    GUIDE,
    PRICING,
    SCANNER,
    stored,
)


class TestClick:
    def test_a_click_redirects_to_the_signed_url_and_is_stored(self, loop, client, links, message):
        response = client.get(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == GUIDE
        assert "no-store" in response.headers["cache-control"]
        [event] = stored(loop)
        assert (event.type, event.source, event.url) == ("clicked", "tracking", GUIDE)
        assert (event.lead_id, event.message_id) == (message.lead_id, message.id)
        assert (event.machine, event.machine_reason) == (False, None)
        assert event.user_agent == CHROME and event.ip == "testclient"

    def test_a_click_a_hand_raiser_rule_names_takes_the_fast_lane(self, loop, client, links):
        """A click on the pricing link, made a hand-raiser, is rescored by
        process_hand_raisers (queue handoffs), not behind the engagement backlog."""
        funnel = loop.runtime.funnels.current
        raiser = HandRaiser("pricing-click", EventFilter("clicked", url="*/pricing"), "sql")
        scoring = replace(funnel.scoring, hand_raisers=(raiser,))
        loop.runtime.funnels = FunnelHolder(
            loop.runtime.funnels.directory, replace(funnel, scoring=scoring)
        )
        sent: list[Job] = []
        run = loop.database.dispatcher
        loop.database.dispatcher = lambda job: (sent.append(job), run(job))
        for url in (GUIDE, PRICING):
            client.get(links[url], follow_redirects=False, headers={"User-Agent": CHROME})
            loop.clock.advance(timedelta(minutes=3))
        lanes = [job.actor for job in sent if job.actor.startswith("process_")]
        assert lanes == ["process_engagement", "process_hand_raisers"]

    def test_each_click_is_its_own_event(self, loop, client, links):
        client.get(links[GUIDE], follow_redirects=False, headers={"User-Agent": CHROME})
        loop.clock.advance(timedelta(minutes=3))
        client.get(links[GUIDE], follow_redirects=False, headers={"User-Agent": CHROME})

        assert len({e.source_event_id for e in stored(loop)}) == 2

    def test_a_query_parameter_cannot_change_the_destination(self, client, links):
        response = client.get(links[PRICING] + "?url=https://evil.example/", follow_redirects=False)

        assert response.headers["location"] == PRICING

    def test_a_token_whose_url_was_swapped_is_404_and_stores_nothing(self, loop, client, links):
        guide_payload, guide_mac = links[GUIDE].removeprefix("/c/").split(".")
        pricing_payload = links[PRICING].removeprefix("/c/").split(".")[0]

        for forged in (f"{pricing_payload}.{guide_mac}", f"{guide_payload}.{guide_mac[::-1]}"):
            response = client.get(f"/c/{forged}", follow_redirects=False)
            assert response.status_code == 404
            assert "location" not in response.headers
        assert stored(loop) == []

    def test_an_unsubscribe_token_is_not_a_click_token(self, loop, client, message):
        token = sign_unsubscribe(message.lead_id, message.id, loop.runtime.settings.signing_key)

        assert client.get(f"/c/{token}", follow_redirects=False).status_code == 404
        assert client.get(f"/o/{token}.gif").status_code == 404
        assert stored(loop) == []

    def test_head_redirects_but_is_not_a_human_click(self, loop, client, links):
        response = client.head(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == GUIDE
        [event] = stored(loop)
        assert event.machine is True
        assert "HEAD" in event.machine_reason

    def test_a_scanner_user_agent_click_is_a_machine_click(self, loop, client, links):
        client.get(links[GUIDE], headers={"User-Agent": SCANNER}, follow_redirects=False)

        [event] = stored(loop)
        assert event.machine is True
        assert "Barracuda" in event.machine_reason

    def test_a_click_seconds_after_sending_is_a_link_scanner(self, loop, client, links, message):
        loop.clock.set(message.sent_at + timedelta(seconds=2))

        client.get(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)

        [event] = stored(loop)
        assert event.machine is True
        assert "after delivery" in event.machine_reason

    def test_two_links_clicked_in_the_same_second_are_a_scanner(self, loop, client, links):
        client.get(links[GUIDE], headers={"User-Agent": CHROME}, follow_redirects=False)
        client.get(links[PRICING], headers={"User-Agent": CHROME}, follow_redirects=False)

        first, second = stored(loop)
        assert first.machine is False
        assert second.machine is True and "links clicked within" in second.machine_reason

    def test_a_database_error_still_redirects(self, loop, client, links, caplog):
        with loop.database.engine.begin() as connection:
            for table in ("notifications", "handoff_answers", "handoffs", "stage_changes"):
                connection.execute(text(f"DROP TABLE {table}"))  # all that refer to events
            connection.execute(text("DROP TABLE events"))

        with caplog.at_level(logging.ERROR, logger="nurture.web.routes.tracking"):
            response = client.get(links[GUIDE], follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == GUIDE
        assert "could not record" in caplog.text


@pytest.fixture
def guide_click(loop):
    """A startup lead waiting for a click on the metrics guide (an hour after it went out):
    (lead id, the tracked /c/ path of the guide's first link)."""
    lead_id = loop.add_lead(email="sam@startup.example", attributes={"company_size": 40})
    while "metrics-guide" not in [m.step_id for m in loop.messages(lead_id)]:
        loop.step() or loop.clock.set(loop.next_due())
    guide = loop.messages(lead_id)[-1]
    assert loop.enrollment(lead_id).status == "waiting_for_event"
    loop.clock.advance(timedelta(hours=1))
    [outgoing] = [o for o in loop.provider.sent if o.message_id == guide.id]
    html = outgoing.mime.get_body(("html",)).get_content()
    base = loop.runtime.settings.base_url
    key = loop.runtime.settings.signing_key
    for path in re.findall(rf'href="{re.escape(base)}(/c/[^"]+)"', html):  # the email's own
        if verify_click(path.removeprefix("/c/"), key).url.startswith("https://lumen-analytics"):
            return lead_id, html_lib.unescape(path)
    raise AssertionError("the guide email holds no tracked link to the guide")


class TestEngagement:
    def test_a_tracked_click_on_the_guide_wakes_the_wait_and_skips_the_reminder(
        self, loop, client, guide_click
    ):
        lead_id, path = guide_click

        client.get(path, headers={"User-Agent": CHROME}, follow_redirects=False)

        assert loop.enrollment(lead_id).next_run_at == loop.clock.now()
        loop.run_until_idle()
        steps = [m.step_id for m in loop.messages(lead_id)]
        assert steps == ["welcome", "metrics-guide", "startup-story", "soft-ask"]

    def test_a_machine_click_does_not_end_the_wait(self, loop, client, guide_click):
        lead_id, path = guide_click

        client.head(path, follow_redirects=False)
        client.get(path, headers={"User-Agent": SCANNER}, follow_redirects=False)
        loop.run_until_idle()

        steps = [m.step_id for m in loop.messages(lead_id)]
        assert steps[:3] == ["welcome", "metrics-guide", "guide-reminder"]


class TestOpen:
    def test_the_pixel_is_an_uncached_gif_and_the_open_is_stored(self, loop, client, links):
        response = client.get(links["open"], headers={"User-Agent": CHROME})

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert response.content.startswith(b"GIF89a\x01\x00\x01\x00")
        assert "no-store" in response.headers["cache-control"]
        [event] = stored(loop)
        assert (event.type, event.source, event.machine) == ("opened", "tracking", False)

    def test_a_gmail_image_proxy_open_counts_as_a_real_open(self, loop, client, links):
        client.get(links["open"], headers={"User-Agent": GMAIL_PROXY})

        [event] = stored(loop)
        assert (event.machine, event.machine_reason) == (False, None)

    def test_an_apple_privacy_protection_prefetch_is_a_machine_open(self, loop, client, links):
        client.get(links["open"], headers={"User-Agent": "Mozilla/5.0"})

        [event] = stored(loop)
        assert event.machine is True
        assert "Apple Mail Privacy Protection" in event.machine_reason

    def test_a_forged_pixel_is_404_and_stores_nothing(self, loop, client, links):
        payload, mac = links["open"].removeprefix("/o/").removesuffix(".gif").split(".")
        forged = f"{payload}.{'B' if mac[0] != 'B' else 'C'}{mac[1:]}"

        assert client.get(f"/o/{forged}.gif").status_code == 404
        with loop.database.unit_of_work(readonly=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(Event)) == 0
