"""SmtpCatcher: a real local SMTP server that keeps each message as an .eml file."""

import email
import email.policy
import logging
import socket
from datetime import UTC, datetime

import pytest

from nurture.core.funnel import Sender
from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail import RenderedEmail
from nurture.mail.catcher import SmtpCatcher
from nurture.mail.message import OutgoingEmail, build_message, unsubscribe_links
from nurture.mail.providers import SmtpProvider

SENDER = Sender("maya@lumen-analytics.example", "Maya Chen", None, "548 Market St")
TO = "jordan.rivera@northwind.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def outgoing(message_id: int = 1001) -> OutgoingEmail:
    rendered = RenderedEmail("Welcome, Jordan", "", "<p>Hi Jordan</p>", "Hi Jordan\n")
    https_url, mailto = unsubscribe_links("https://nurture.test", 42, message_id, b"k" * 32, SENDER)
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    mime = build_message(rendered, SENDER, TO, message_id, https_url, mailto, now)
    return OutgoingEmail(message_id, f"nurture-{message_id}", TO, mime)


@pytest.fixture
def catcher(tmp_path):
    catcher = SmtpCatcher("127.0.0.1", free_port(), tmp_path / "outbox" / "smtp")
    catcher.start()
    yield catcher
    catcher.stop()


def provider_for(catcher: SmtpCatcher) -> SmtpProvider:
    return SmtpProvider(catcher.host, catcher.port, timeout=5.0)


class TestCatching:
    def test_a_message_sent_by_the_smtp_provider_is_written_as_eml(self, catcher):
        provider_id = provider_for(catcher).send(outgoing(1001))

        [path] = catcher.directory.glob("*.eml")
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Message-ID"] == "<nurture.1001@lumen-analytics.example>"
        assert message["Subject"] == "Welcome, Jordan"
        assert message["Return-Path"] == "<maya@lumen-analytics.example>"
        assert message["X-Catcher-Rcpt-To"] == TO
        assert provider_id == path.stem  # the catcher's queue id names the file

    def test_a_message_sent_twice_is_caught_twice(self, catcher):
        provider = provider_for(catcher)

        provider.send(outgoing(1001))
        provider.send(outgoing(1001))

        assert len(list(catcher.directory.glob("*.eml"))) == 2

    def test_each_message_is_logged_on_one_line(self, catcher, caplog):
        with caplog.at_level(logging.INFO, logger="nurture.mail.catcher"):
            provider_for(catcher).send(outgoing())

        [line] = [r.getMessage() for r in caplog.records if r.name == "nurture.mail.catcher"]
        assert f"to={TO}" in line
        assert "subject='Welcome, Jordan'" in line


class TestLifecycle:
    def test_after_stop_nothing_listens(self, catcher):
        catcher.stop()

        with pytest.raises(ProviderUnavailable):
            provider_for(catcher).send(outgoing())
        assert not catcher.running

    def test_starting_twice_is_a_programming_error(self, catcher):
        with pytest.raises(RuntimeError, match="already running"):
            catcher.start()

    def test_as_a_context_manager_it_stops_on_exit(self, tmp_path):
        with SmtpCatcher("127.0.0.1", free_port(), tmp_path) as catcher:
            provider_for(catcher).send(outgoing())
            assert catcher.running

        assert not catcher.running
        assert len(list(tmp_path.glob("*.eml"))) == 1


class TestStorageFailure:
    def test_a_message_that_cannot_be_stored_is_deferred_not_rejected(self, catcher):
        catcher.directory.rmdir()
        catcher.directory.write_text("a file where the folder should be")

        with pytest.raises(ProviderUnavailable, match="451") as caught:
            provider_for(catcher).send(outgoing())
        assert not isinstance(caught.value, ProviderRejected)
