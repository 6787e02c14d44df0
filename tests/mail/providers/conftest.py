"""Fixtures for provider tests: outgoing emails, real SMTP servers (aiosmtpd) on free ports,
a self-signed certificate for STARTTLS, and a scripted raw-socket SMTP peer for the failures
a well-behaved server never produces. For the HTTP providers: each one made against a local
server (``http_provider``; pytest-httpserver's ``httpserver`` plays the provider), and a raw
socket peer that takes a request and never answers (``http_peer``)."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from nurture.core.funnel import Sender
from nurture.mail import RenderedEmail
from nurture.mail.message import OutgoingEmail, build_message, unsubscribe_links
from nurture.mail.providers import (
    MailgunProvider,
    PostmarkProvider,
    ResendProvider,
    SendGridProvider,
    SesProvider,
)
from nurture.mail.providers._http import HttpProvider

SENDER = Sender(
    from_address="maya@lumen-analytics.example",
    from_name="Maya Chen",
    reply_to=None,
    postal_address="548 Market St #4410, San Francisco, CA 94104",
)
TO = "jordan.rivera@northwind.example"


def make_outgoing(
    message_id: int = 1001, *, key: str | None = None, subject: str = "Welcome, Jordan"
) -> OutgoingEmail:
    rendered = RenderedEmail(subject, "", "<p>Hi Jordan</p>", "Hi Jordan\n")
    https_url, mailto = unsubscribe_links("https://nurture.test", 42, message_id, b"k" * 32, SENDER)
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    mime = build_message(rendered, SENDER, TO, message_id, https_url, mailto, now)
    return OutgoingEmail(message_id, key or f"nurture-{message_id}", TO, mime)


@pytest.fixture
def outgoing() -> Callable[..., OutgoingEmail]:
    """outgoing(message_id=1001, key=…, subject=…): an OutgoingEmail to Jordan."""
    return make_outgoing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Controller]]:
    """smtp_server(handler, **smtp_options): a started aiosmtpd server on 127.0.0.1."""
    started: list[Controller] = []

    def start(handler: object, **options: Any) -> Controller:
        controller = Controller(
            handler, hostname="127.0.0.1", port=free_port(), server_hostname="mx.test", **options
        )
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI
    (the `cryptography` package is not installed here)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def client_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """Trusts the test certificate and nothing else; hostname checks stay on."""
    return ssl.create_default_context(cafile=str(tls_files[0]))


class ScriptedPeer:
    """Just enough SMTP to take one message, then misbehave: after the final dot it sends
    ``after_data`` (None: hangs up at once) and then ignores QUIT until the client leaves."""

    def __init__(self, after_data: bytes | None) -> None:
        self.after_data = after_data
        self.received = b""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 scripted ESMTP\r\n")
            for line in reader:
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    self._read_data(reader)
                    if self.after_data is None:
                        return
                    conn.sendall(self.after_data)
                    reader.read()  # ignore QUIT; wait for the client to give up
                    return
                conn.sendall(b"250 ok\r\n")

    def _read_data(self, reader: Any) -> None:
        for line in reader:
            if line == b".\r\n":
                return
            self.received += line

    def close(self) -> None:
        self._listener.close()
        self._thread.join(timeout=10)


@pytest.fixture
def scripted_peer() -> Iterator[Callable[[bytes | None], ScriptedPeer]]:
    peers: list[ScriptedPeer] = []

    def start(after_data: bytes | None) -> ScriptedPeer:
        peers.append(ScriptedPeer(after_data))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()


# --------------------------------------------------------------------------- HTTP providers

MAILGUN_DOMAIN = "mg.lumen-analytics.example"
SES_REGION = "eu-west-1"
SES_KEY_ID, SES_SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _sendgrid(url: str, timeout: float) -> HttpProvider:
    return SendGridProvider("SG.test-key", base_url=url, timeout=timeout)


def _mailgun(url: str, timeout: float) -> HttpProvider:
    return MailgunProvider("key-test", MAILGUN_DOMAIN, base_url=url, timeout=timeout)


def _postmark(url: str, timeout: float) -> HttpProvider:
    return PostmarkProvider("server-token-test", base_url=url, timeout=timeout)


def _ses(url: str, timeout: float) -> HttpProvider:
    return SesProvider(
        SES_REGION,
        SES_KEY_ID,
        SES_SECRET,
        configuration_set="nurture-events",
        base_url=url,
        timeout=timeout,
    )


def _resend(url: str, timeout: float) -> HttpProvider:
    return ResendProvider("re_test_key", base_url=url, timeout=timeout)


# name -> (the path the provider posts to, how to make one against a base URL)
HTTP_PROVIDERS: dict[str, tuple[str, Callable[[str, float], HttpProvider]]] = {
    "sendgrid": ("/v3/mail/send", _sendgrid),
    "mailgun": (f"/v3/{MAILGUN_DOMAIN}/messages.mime", _mailgun),
    "postmark": ("/email", _postmark),
    "ses": ("/v2/email/outbound-emails", _ses),
    "resend": ("/emails", _resend),
}


@pytest.fixture
def http_provider() -> Iterator[Callable[..., HttpProvider]]:
    """http_provider(name, base_url, timeout=5.0): a provider of that name, closed after."""
    made: list[HttpProvider] = []

    def make(name: str, base_url: str, timeout: float = 5.0) -> HttpProvider:
        made.append(HTTP_PROVIDERS[name][1](base_url.rstrip("/"), timeout))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


class HttpPeer:
    """Takes HTTP requests on a raw socket. With ``reply`` it sends those bytes as they are
    (headers no server library would let through unchanged); else it never answers: with
    ``hang_up`` it closes the connection after the request, otherwise it stays silent."""

    def __init__(self, hang_up: bool, reply: bytes | None = None) -> None:
        self.hang_up = hang_up
        self.reply = reply
        self.requests: list[bytes] = []
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # wakes up to notice close()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests.append(_read_request(conn))
            if self.reply is not None:
                conn.sendall(self.reply)
            if self.hang_up or self.reply is not None:
                conn.close()
            else:
                self._open.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._listener.close()
        for conn in self._open:
            conn.close()


def _read_request(conn: socket.socket) -> bytes:
    """Headers, then Content-Length bytes of body: all the client sends."""
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(match[1]) if match else 0
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def http_peer() -> Iterator[Callable[..., HttpPeer]]:
    """http_peer(hang_up=False, reply=None): a raw HTTP peer (see HttpPeer)."""
    peers: list[HttpPeer] = []

    def start(hang_up: bool = False, reply: bytes | None = None) -> HttpPeer:
        peers.append(HttpPeer(hang_up, reply))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()
