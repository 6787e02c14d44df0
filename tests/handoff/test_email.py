"""Email to the owner through the engine's mail provider: the outbox (what `make run`
uses), a real SMTP server (aiosmtpd), and the in-memory provider's scripted failures."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from nurture.core.clock import FrozenClock
from nurture.core.funnel import Sender
from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.handoff import EmailNotifier, NotificationRejected, NotificationUnavailable
from nurture.handoff.email import provider_key
from nurture.mail.providers import MemoryProvider, OutboxProvider, SmtpProvider
from tests.mail.providers.conftest import smtp_server  # noqa: F401  (fixture)
from tests.mail.providers.test_smtp import Recorder

SENDER = Sender("maya@lumen-analytics.example", "Maya Chen", None, "548 Market St")
NOW = datetime(2026, 11, 23, 15, 0, 5, tzinfo=UTC)
OWNER = "priya@lumen-analytics.example"


def notifier(provider):
    return EmailNotifier(provider, lambda: SENDER, FrozenClock(NOW))


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


class TestOutbox:
    def test_the_owner_gets_text_and_html_with_the_facts_reasons_and_links(self, tmp_path, context):
        outbox = OutboxProvider(tmp_path / "outbox")

        notifier(outbox).send(context, OWNER, "handoff-12-email")

        [path] = (tmp_path / "outbox").glob("*.eml")
        message = parse(path.read_bytes())
        assert message["To"] == OWNER
        assert message["From"] == "Maya Chen <maya@lumen-analytics.example>"
        assert message["Subject"] == "New MQL: Jordan Rivera (Northwind Traders)"
        assert message["Auto-Submitted"] == "auto-generated"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for part in (text, html):
            assert "Assigned to Priya Shah (round robin in team sdr)." in part
            assert "Head of Product" in part
            assert "pricing-page: +20 points (2 events)" in part
            assert context["links"]["accept"] in part
        assert "Accept: https://nurture.example/h/acc-TOKEN" in text
        assert "mql: fit in [A, B] and engagement &gt;= 50" in html
        assert '<a href="https://nurture.example/h/rej-TOKEN">Reject</a>' in html

    def test_a_retried_send_does_not_deliver_twice(self, tmp_path, context):
        outbox = OutboxProvider(tmp_path / "outbox")

        notifier(outbox).send(context, OWNER, "handoff-12-email")
        notifier(outbox).send(context, OWNER, "handoff-12-email")

        assert [p.name for p in (tmp_path / "outbox").glob("*.eml")] == [
            "notification-handoff-12-email.eml"
        ]

    def test_without_a_recipient_the_owners_address_is_used(self, tmp_path, context):
        notifier(OutboxProvider(tmp_path)).send(context, None, "k1")

        assert parse(next(tmp_path.glob("*.eml")).read_bytes())["To"] == OWNER

    def test_nobody_to_send_to_is_permanent(self, tmp_path, context):
        context["owner"] = None

        with pytest.raises(NotificationRejected, match="email: the notification has no"):
            notifier(OutboxProvider(tmp_path)).send(context, None, "k1")


def test_an_smtp_server_receives_it(smtp_server, context):  # noqa: F811
    recorder = Recorder()
    server = smtp_server(recorder)
    provider = SmtpProvider("127.0.0.1", server.port, timeout=5.0)

    notifier(provider).send(context, OWNER, "handoff-12-email")

    [envelope] = recorder.envelopes
    assert envelope.rcpt_tos == [OWNER]
    assert envelope.mail_from == SENDER.from_address
    assert parse(envelope.content)["Subject"] == "New MQL: Jordan Rivera (Northwind Traders)"


class TestProviderErrors:
    def test_unavailable_is_retried_with_the_providers_retry_after(self, context):
        memory = MemoryProvider()
        memory.fail_next(ProviderUnavailable("429 slow down", retry_after=30))

        with pytest.raises(NotificationUnavailable) as caught:
            notifier(memory).send(context, OWNER, "k")

        assert caught.value.retry_after == 30
        assert str(caught.value) == "email: 429 slow down"

    def test_rejected_is_permanent(self, context):
        memory = MemoryProvider()
        memory.fail_next(ProviderRejected("550 no such user"))

        with pytest.raises(NotificationRejected, match="email: 550 no such user"):
            notifier(memory).send(context, OWNER, "k")


def test_keys_providers_cannot_take_are_replaced_by_a_digest():
    assert provider_key("handoff-12-email") == "notification-handoff-12-email"
    odd = provider_key("handoff:12/email")
    assert odd.startswith("notification-") and len(odd) == 53
    assert odd == provider_key("handoff:12/email")
