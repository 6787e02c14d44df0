"""/u/{token} (RFC 8058 one-click and confirm page) and /p/{token} (preferences), driven
through the sending loop on SQLite and PostgreSQL: the token comes from the List-Unsubscribe
header of a real email, and what matters is whether the next step still goes out."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from nurture.errors import BadToken
from nurture.mail.tokens import CLICK, sign, sign_open, sign_unsubscribe
from nurture.services.subscriptions import (
    PAUSE,
    SOURCE_MAILTO,
    token_in_subject,
    unsubscribe_by_token,
)
from nurture.store.models import Event, Lead

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def lead_id(loop):
    """A lead who got the first email of the cold sequence; the next step is due."""
    lead = loop.add_lead()
    loop.run_until_idle(max_days=1)
    assert [m.step_id for m in loop.messages(lead)] == ["welcome"]
    return lead


@pytest.fixture
def token(loop, lead_id):
    """The token in the first email's List-Unsubscribe header."""
    [outgoing] = loop.provider.sent
    header = str(outgoing.headers["List-Unsubscribe"])
    path = urlsplit(re.search(r"<(https?://[^>]+)>", header)[1]).path
    assert path.startswith("/u/")
    return path.removeprefix("/u/")


def lead_row(loop, lead_id):
    with loop.database.unit_of_work(readonly=True) as uow:
        return uow.session.get(Lead, lead_id)


def events(loop, **where):
    with loop.database.unit_of_work(readonly=True) as uow:
        query = select(Event).filter_by(**where).order_by(Event.id)
        return list(uow.session.scalars(query))


def event_count(loop):
    with loop.database.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Event))


class TestOneClick:
    def test_one_click_post_unsubscribes_and_the_next_step_is_not_sent(
        self, loop, client, lead_id, token
    ):
        response = client.post(f"/u/{token}", data=ONE_CLICK)

        assert response.status_code == 200
        assert len(response.content) < 100
        assert lead_row(loop, lead_id).contact_status == "unsubscribed"
        enrollment = loop.enrollment(lead_id)
        assert (enrollment.status, enrollment.exit_reason) == (
            "exited",
            "unsubscribed (one-click)",
        )
        [event] = events(loop, lead_id=lead_id)
        assert (event.type, event.source) == ("unsubscribed", "list-unsubscribe")
        assert event.message_id == loop.messages(lead_id)[0].id

        loop.run_until_idle()

        assert [m.step_id for m in loop.messages(lead_id)] == ["welcome"]
        assert len(loop.provider.sent) == 1

    def test_a_second_post_answers_200_and_changes_nothing(self, loop, client, lead_id, token):
        client.post(f"/u/{token}", data=ONE_CLICK)
        first = lead_row(loop, lead_id)
        loop.clock.advance(timedelta(minutes=5))

        again = client.post(f"/u/{token}", data=ONE_CLICK)

        assert again.status_code == 200
        assert len(events(loop, lead_id=lead_id)) == 1
        second = lead_row(loop, lead_id)
        assert second.contact_status == "unsubscribed"
        assert second.contact_status_changed_at == first.contact_status_changed_at
        assert second.updated_at == first.updated_at

    def test_a_multipart_body_is_accepted_as_rfc_8058_allows(self, loop, client, lead_id, token):
        response = client.post(f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})

        assert response.status_code == 200
        assert lead_row(loop, lead_id).contact_status == "unsubscribed"

    def test_a_one_click_post_needs_no_cookie_or_login(self, client, token):
        response = client.post(f"/u/{token}", data=ONE_CLICK, headers={"Cookie": ""})

        assert response.status_code == 200


class TestConfirmPage:
    def test_get_shows_a_page_and_unsubscribes_nobody(self, loop, client, lead_id, token):
        response = client.get(f"/u/{token}")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert 'lang="en"' in page and "<script" not in page
        assert 'value="unsubscribe"' in page and 'value="pause"' in page
        assert "Maya Chen" in page and "548 Market St #4410" in page
        assert lead_row(loop, lead_id).contact_status == "active"
        assert event_count(loop) == 0

        loop.run_until_idle(max_days=3)

        assert len(loop.messages(lead_id)) > 1

    def test_the_page_form_unsubscribes_and_offers_to_resubscribe(
        self, loop, client, lead_id, token
    ):
        response = client.post(f"/u/{token}", data={"action": "unsubscribe"})

        assert response.status_code == 200
        assert "You are unsubscribed" in response.text
        assert 'value="resubscribe"' in response.text
        assert lead_row(loop, lead_id).contact_status == "unsubscribed"
        assert loop.enrollment(lead_id).exit_reason == "unsubscribed (preferences page)"
        [event] = events(loop, lead_id=lead_id)
        assert (event.type, event.source) == ("unsubscribed", "preferences")

    def test_pause_keeps_the_lead_active_until_30_days_from_now(self, loop, client, lead_id, token):
        response = client.post(f"/u/{token}", data={"action": "pause"})

        assert response.status_code == 200
        assert "Emails paused" in response.text
        lead = lead_row(loop, lead_id)
        assert lead.contact_status == "active"
        assert lead.paused_until == loop.clock.now() + PAUSE == loop.clock.now() + timedelta(30)
        assert loop.enrollment(lead_id).status in ("active", "waiting_for_event")

    def test_a_paused_lead_gets_no_email_until_the_pause_is_over(
        self, loop, client, lead_id, token
    ):
        client.post(f"/u/{token}", data={"action": "pause"})
        until = lead_row(loop, lead_id).paused_until

        loop.run_until_idle(max_days=29)
        assert len(loop.messages(lead_id)) == 1
        loop.run_until_idle()

        later = loop.messages(lead_id)[1:]
        assert later
        assert all(m.created_at >= until for m in later)

    def test_resume_ends_the_pause(self, loop, client, lead_id, token):
        client.post(f"/u/{token}", data={"action": "pause"})

        response = client.post(f"/p/{token}", data={"action": "resume"})

        assert "Emails resumed" in response.text
        assert lead_row(loop, lead_id).paused_until is None


class TestPreferences:
    def test_preferences_page_offers_pause_and_unsubscribe(self, client, token):
        page = client.get(f"/p/{token}").text

        assert "You are subscribed" in page
        assert 'value="pause"' in page and 'value="unsubscribe"' in page

    def test_resubscribe_undoes_the_leads_own_unsubscribe(self, loop, client, lead_id, token):
        client.post(f"/u/{token}", data=ONE_CLICK)

        response = client.post(f"/p/{token}", data={"action": "resubscribe"})

        assert response.status_code == 200
        assert "subscribed again" in response.text
        assert lead_row(loop, lead_id).contact_status == "active"
        assert [e.type for e in events(loop, lead_id=lead_id)] == ["unsubscribed", "resubscribed"]

    def test_a_resubscribed_lead_starts_its_stage_sequence_again(
        self, loop, client, lead_id, token
    ):
        client.post(f"/u/{token}", data=ONE_CLICK)
        client.post(f"/p/{token}", data={"action": "resubscribe"})

        enrollment = loop.enrollment(lead_id)
        assert (enrollment.status, enrollment.current_step) == ("active", "welcome")
        loop.step()
        assert [m.step_id for m in loop.messages(lead_id)] == ["welcome", "welcome"]

    def test_unsubscribe_resubscribe_unsubscribe_records_each_change(
        self, loop, client, lead_id, token
    ):
        client.post(f"/u/{token}", data=ONE_CLICK)
        client.post(f"/p/{token}", data={"action": "resubscribe"})
        client.post(f"/u/{token}", data=ONE_CLICK)

        kinds = [e.type for e in events(loop, lead_id=lead_id)]
        assert kinds == ["unsubscribed", "resubscribed", "unsubscribed"]
        assert lead_row(loop, lead_id).contact_status == "unsubscribed"

    @pytest.mark.parametrize("status", ["bounced", "complained"])
    def test_resubscribe_is_refused_when_the_mailbox_said_no(
        self, loop, client, lead_id, token, status
    ):
        loop.update_lead(lead_id, contact_status=status)

        response = client.post(f"/p/{token}", data={"action": "resubscribe"})

        assert response.status_code == 409
        assert "cannot be turned back on" in response.text
        assert 'value="resubscribe"' not in response.text
        assert lead_row(loop, lead_id).contact_status == status
        assert event_count(loop) == 0

    def test_pause_is_refused_for_an_unsubscribed_lead(self, loop, client, lead_id, token):
        client.post(f"/u/{token}", data=ONE_CLICK)

        response = client.post(f"/p/{token}", data={"action": "pause"})

        assert response.status_code == 409
        assert lead_row(loop, lead_id).paused_until is None

    def test_an_unknown_choice_is_a_400_page(self, loop, client, lead_id, token):
        response = client.post(f"/p/{token}", data={"action": "delete-everything"})

        assert response.status_code == 400
        assert lead_row(loop, lead_id).contact_status == "active"


class TestBadLinks:
    @pytest.mark.parametrize(
        ("method", "prefix"),
        [("GET", "/u/"), ("POST", "/u/"), ("GET", "/p/"), ("POST", "/p/")],
    )
    def test_a_forged_token_is_404_and_changes_nothing(
        self, loop, client, lead_id, token, method, prefix
    ):
        payload, mac = token.split(".")
        forged = f"{payload}.{'B' if mac[0] != 'B' else 'C'}{mac[1:]}"

        response = client.request(method, prefix + forged, data=ONE_CLICK)

        assert response.status_code == 404
        assert "Link not valid" in response.text or response.text == "Unknown link.\n"
        assert lead_row(loop, lead_id).contact_status == "active"
        assert event_count(loop) == 0

    def test_a_token_for_another_purpose_is_404(self, loop, client, lead_id):
        key = loop.runtime.settings.signing_key
        message_id = loop.messages(lead_id)[0].id
        for other in (
            sign_open(lead_id, message_id, key),
            sign(CLICK, f"lead:{lead_id}:msg:{message_id}", key),
        ):
            assert client.post(f"/u/{other}", data=ONE_CLICK).status_code == 404
            assert client.get(f"/p/{other}").status_code == 404
        assert lead_row(loop, lead_id).contact_status == "active"
        assert event_count(loop) == 0

    def test_a_lead_that_no_longer_exists_is_404(self, loop, client, lead_id):
        gone = sign_unsubscribe(lead_id + 1000, 1, loop.runtime.settings.signing_key)

        assert client.get(f"/u/{gone}").status_code == 404
        assert client.post(f"/u/{gone}", data=ONE_CLICK).status_code == 404
        assert client.post(f"/p/{gone}", data={"action": "pause"}).status_code == 404
        assert event_count(loop) == 0


class TestMailtoHook:
    def test_the_token_in_a_mailto_subject_unsubscribes(self, loop, lead_id, token):
        found = token_in_subject(f"Re: unsubscribe {token}")
        with loop.database.unit_of_work() as uow:
            unsubscribe_by_token(
                uow.session,
                found,
                loop.runtime.settings.signing_key,
                loop.clock.now(),
                SOURCE_MAILTO,
            )

        assert lead_row(loop, lead_id).contact_status == "unsubscribed"
        assert loop.enrollment(lead_id).exit_reason == "unsubscribed (email)"
        [event] = events(loop, lead_id=lead_id)
        assert event.source == "mailto"

    def test_a_forged_token_raises_and_stores_nothing(self, loop, lead_id, token):
        with (
            pytest.raises(BadToken),
            loop.database.unit_of_work() as uow,
        ):
            unsubscribe_by_token(
                uow.session, token[:-1] + "A", b"x" * 32, loop.clock.now(), SOURCE_MAILTO
            )

        assert lead_row(loop, lead_id).contact_status == "active"

    def test_a_subject_without_a_token_gives_none(self):
        assert token_in_subject("Please take me off your list") is None
