"""SmtpProvider against real SMTP servers: aiosmtpd on a free port, a socket that never
answers, a closed port, and a scripted peer that hangs up at the worst moment."""

import email
import email.policy
import socket
import time

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.providers import DeliveryUnknown, SmtpProvider

USER, PASSWORD = "nurture", "s3cret"


class Recorder:
    """Accepts everything and keeps (envelope, used TLS, authenticated)."""

    def __init__(self, reply: str = "250 2.0.0 Ok: queued as 4XyZ9") -> None:
        self.reply = reply
        self.received: list[tuple[object, bool, bool]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope, session.ssl is not None, bool(session.authenticated)))
        return self.reply

    @property
    def envelopes(self):
        return [envelope for envelope, _, _ in self.received]


class RefuseRecipient:
    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply


class RefuseSender:
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "553 5.7.1 sender not allowed"


class RefuseData:
    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):
        return self.reply


def authenticator(server, session, envelope, mechanism, auth_data):
    """Accepts USER/PASSWORD. ``handled=False`` makes aiosmtpd answer 535 on failure
    (its default, True, means "I already replied" and the client would hang)."""
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
    return AuthResult(success=ok and auth_data.password == PASSWORD.encode(), handled=False)


def provider_for(controller, **options) -> SmtpProvider:
    options.setdefault("timeout", 5.0)
    return SmtpProvider(controller.hostname, controller.port, **options)


class TestDelivery:
    def test_the_message_reaches_the_server_for_the_lead(self, smtp_server, outgoing):
        handler = Recorder()
        provider = provider_for(smtp_server(handler))

        provider.send(outgoing())

        [envelope] = handler.envelopes
        assert envelope.mail_from == "maya@lumen-analytics.example"
        assert envelope.rcpt_tos == ["jordan.rivera@northwind.example"]

    def test_headers_arrive_intact(self, smtp_server, outgoing):
        handler = Recorder()
        sent = outgoing(1001)

        provider_for(smtp_server(handler)).send(sent)

        received = email.message_from_bytes(
            handler.envelopes[0].original_content, policy=email.policy.default
        )
        assert received["Message-ID"] == "<nurture.1001@lumen-analytics.example>"
        assert received["X-Nurture-Message-Id"] == "1001"
        assert received["List-Unsubscribe"] == sent.mime["List-Unsubscribe"]
        assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert b"=?" not in handler.envelopes[0].original_content.split(b"List-Unsub")[1][:300]

    def test_the_provider_id_is_the_queue_id_from_the_final_reply(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(Recorder("250 2.0.0 Ok: queued as 4XyZ9")))

        assert provider.send(outgoing()) == "4XyZ9"

    def test_without_a_queue_id_the_provider_id_is_the_message_id(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(Recorder("250 OK")))

        assert provider.send(outgoing(1001)) == "nurture.1001@lumen-analytics.example"

    def test_smtp_cannot_look_messages_up(self, smtp_server):
        provider = SmtpProvider("127.0.0.1", 1)

        assert provider.supports_lookup is False
        with pytest.raises(RuntimeError, match="supports_lookup"):
            provider.find("nurture-1001")


class TestRefusals:
    def test_an_unknown_recipient_is_rejected_with_the_server_text(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(RefuseRecipient("550 5.1.1 no such user")))

        with pytest.raises(ProviderRejected, match=r"recipient refused: 550 5\.1\.1 no such user"):
            provider.send(outgoing())

    def test_a_recipient_deferred_with_4xx_is_unavailable(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(RefuseRecipient("450 4.2.1 mailbox busy")))

        with pytest.raises(ProviderUnavailable, match="450") as caught:
            provider.send(outgoing())
        assert not isinstance(caught.value, ProviderRejected)

    def test_a_refused_sender_is_rejected(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(RefuseSender()))

        with pytest.raises(ProviderRejected, match="sender refused: 553"):
            provider.send(outgoing())

    def test_data_deferred_with_451_is_unavailable(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(RefuseData("451 4.3.0 try later")))

        with pytest.raises(ProviderUnavailable, match=r"451 4\.3\.0 try later"):
            provider.send(outgoing())

    def test_data_refused_with_554_is_rejected(self, smtp_server, outgoing):
        provider = provider_for(smtp_server(RefuseData("554 5.7.1 spam detected")))

        with pytest.raises(ProviderRejected, match="data refused: 554"):
            provider.send(outgoing())


class TestConnectionFailures:
    def test_a_closed_port_is_unavailable(self, outgoing):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # closed again when the block ends

        with pytest.raises(ProviderUnavailable, match=f"smtp 127.0.0.1:{port}"):
            SmtpProvider("127.0.0.1", port, timeout=2.0).send(outgoing())

    def test_a_server_that_never_answers_is_unavailable_within_the_timeout(self, outgoing):
        with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never speaks
            provider = SmtpProvider("127.0.0.1", silent.getsockname()[1], timeout=0.5)
            started = time.monotonic()

            with pytest.raises(ProviderUnavailable) as caught:
                provider.send(outgoing())

        assert time.monotonic() - started < 3
        assert not isinstance(caught.value, DeliveryUnknown)

    def test_a_hang_up_after_the_data_is_delivery_unknown(self, scripted_peer, outgoing):
        peer = scripted_peer(None)
        provider = SmtpProvider("127.0.0.1", peer.port, timeout=2.0)

        with pytest.raises(DeliveryUnknown, match="after the message was sent"):
            provider.send(outgoing(1001))
        assert b"X-Nurture-Message-Id: 1001" in peer.received

    def test_a_failed_quit_after_acceptance_still_counts_as_sent(self, scripted_peer, outgoing):
        peer = scripted_peer(b"250 Ok: queued as Q42\r\n")
        provider = SmtpProvider("127.0.0.1", peer.port, timeout=0.5)

        assert provider.send(outgoing()) == "Q42"


class TestAuth:
    def test_login_with_the_right_password_delivers(self, smtp_server, outgoing):
        handler = Recorder()
        server = smtp_server(handler, authenticator=authenticator, auth_require_tls=False)

        provider_for(server, username=USER, password=PASSWORD).send(outgoing())

        [(_, _, authenticated)] = handler.received
        assert authenticated

    def test_a_wrong_password_is_unavailable_not_rejected(self, smtp_server, outgoing):
        server = smtp_server(Recorder(), authenticator=authenticator, auth_require_tls=False)
        provider = provider_for(server, username=USER, password="wrong")

        with pytest.raises(ProviderUnavailable, match="login failed: 535") as caught:
            provider.send(outgoing())
        assert not isinstance(caught.value, ProviderRejected)

    def test_username_without_password_is_a_programming_error(self):
        with pytest.raises(ValueError, match="username and password"):
            SmtpProvider("127.0.0.1", 25, username=USER)


class TestStartTls:
    def test_starttls_then_login_delivers_over_tls(
        self, smtp_server, outgoing, server_tls, client_tls
    ):
        handler = Recorder()
        server = smtp_server(
            handler,
            tls_context=server_tls,
            require_starttls=True,
            auth_required=True,
            authenticator=authenticator,
        )
        provider = provider_for(
            server, username=USER, password=PASSWORD, starttls=True, ssl_context=client_tls
        )

        provider.send(outgoing())

        [(_, used_tls, authenticated)] = handler.received
        assert used_tls and authenticated

    def test_an_untrusted_certificate_is_unavailable(self, smtp_server, outgoing, server_tls):
        server = smtp_server(Recorder(), tls_context=server_tls, require_starttls=True)
        provider = provider_for(server, starttls=True)  # system trust store only

        with pytest.raises(ProviderUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            provider.send(outgoing())

    def test_starttls_configured_but_not_offered_never_sends_in_clear(self, smtp_server, outgoing):
        handler = Recorder()
        provider = provider_for(smtp_server(handler), starttls=True)

        with pytest.raises(ProviderUnavailable, match="does not offer"):
            provider.send(outgoing())
        assert handler.received == []

    def test_a_server_requiring_starttls_is_unavailable_without_it(
        self, smtp_server, outgoing, server_tls
    ):
        server = smtp_server(Recorder(), tls_context=server_tls, require_starttls=True)

        with pytest.raises(ProviderUnavailable, match="530") as caught:
            provider_for(server).send(outgoing())
        assert not isinstance(caught.value, ProviderRejected)


class CountingSessions(Recorder):
    """A Recorder that also counts SMTP sessions (one EHLO each)."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses


class TestKeptConnection:
    def test_messages_from_one_thread_share_one_connection(self, smtp_server, outgoing):
        handler = CountingSessions()
        provider = provider_for(smtp_server(handler))

        for message_id in (1, 2, 3):
            provider.send(outgoing(message_id))

        assert len(handler.envelopes) == 3
        assert handler.sessions == 1
        provider.close()

    def test_a_connection_the_server_dropped_while_idle_is_replaced_and_sends_once(
        self, smtp_server, outgoing
    ):
        handler = CountingSessions()
        provider = provider_for(smtp_server(handler, timeout=0.3))  # server hangs up idlers
        provider.send(outgoing(1))
        time.sleep(0.8)

        provider.send(outgoing(2))

        assert len(handler.envelopes) == 2  # the second went once, on a new connection
        assert handler.sessions == 2
        provider.close()

    def test_after_an_error_the_connection_is_not_reused(self, smtp_server, outgoing):
        handler = RefusingFirstRecipient()
        provider = provider_for(smtp_server(handler))

        with pytest.raises(ProviderRejected):
            provider.send(outgoing(1))
        provider.send(outgoing(2))

        assert handler.sessions == 2  # a fresh session after the refusal
        assert len(handler.envelopes) == 1
        provider.close()


class RefusingFirstRecipient(CountingSessions):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.envelopes and not getattr(self, "refused", False):
            self.refused = True
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"
