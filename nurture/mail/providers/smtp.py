"""SMTP provider: any SMTP server (a relay, Mailpit, the built-in catcher), with STARTTLS
and AUTH when configured.

Each worker thread keeps its connection open between messages (set up once: EHLO,
STARTTLS, AUTH) for up to ``IDLE_SECONDS``. A kept connection the server has closed
meanwhile fails before anything is sent (at MAIL FROM): that message goes again on a fresh
connection, once. After any error the connection is dropped, never reused.

Every socket operation (connect, each command, each reply) has ``timeout`` seconds; a
blocked socket is the one thing a Dramatiq time limit cannot interrupt. The timeout is per
operation, not a deadline for the whole exchange.

Errors are mapped once, here: a 5xx refusal of the sender, the recipient or the data is
permanent (``ProviderRejected``); 4xx, a lost or refused connection, a timeout, a TLS or
login failure (a configuration problem, not this message's) are temporary
(``ProviderUnavailable``). A connection lost after the data went out is ``DeliveryUnknown``:
the server may have queued the message. SMTP has no lookup, so ``supports_lookup`` is False.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
import time
import weakref
from typing import TYPE_CHECKING, NoReturn

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.message import OutgoingEmail
from nurture.mail.providers.base import DeliveryUnknown, lookup_unsupported

# 530 (authentication or STARTTLS required) and the AUTH failures say our configuration
# is wrong, not this message: retry once an operator has fixed it, never fail the message.
_ACCESS_CODES = frozenset({530, 534, 535, 538})

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

IDLE_SECONDS = 30.0  # servers drop idle clients after a minute or more; reconnect before that
_QUEUED_AS = re.compile(rb"queued as ([A-Za-z0-9._@<>:+=/-]+)", re.IGNORECASE)


class _Connection(smtplib.SMTP):
    """smtplib.SMTP that keeps the final reply to DATA (it carries the queue id) and knows
    whether the message data may have reached the server."""

    data_started = False
    data_reply: tuple[int, bytes] | None = None
    idle_since = 0.0

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_started = True
        self.data_reply = super().data(msg)
        return self.data_reply


class SmtpProvider:
    """Sends through one SMTP server; the provider id is the server's queue id when its
    final reply says "queued as X", else the message's Message-ID."""

    name = "smtp"
    supports_lookup = False

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("SMTP timeout must be positive: nothing may wait forever")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password go together")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.local_hostname = local_hostname
        self._local = threading.local()  # one kept connection per worker thread
        self._kept: set[_Connection] = set()  # all threads' kept connections, to close them
        self._kept_lock = threading.Lock()
        weakref.finalize(self, _close_all, self._kept, self._kept_lock)

    def send(self, email: OutgoingEmail) -> str:
        kept = self._take()
        if kept is not None:
            try:
                return self._send_on(kept, email)
            except _Stale:
                pass  # closed by the server while idle; nothing was sent: a fresh connection
        return self._send_on(None, email)

    def close(self) -> None:
        """Quit the calling thread's kept connection (others close with their process)."""
        kept = self._take()
        if kept is not None:
            _quit_quietly(kept)

    def _send_on(self, connection: _Connection | None, email: OutgoingEmail) -> str:
        reused = connection is not None
        try:
            if connection is None:
                connection = _Connection(
                    self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
                )
                self._start(connection)
            connection.data_started, connection.data_reply = False, None
            connection.sendmail(email.envelope_from, [email.to], email.data)
            provider_id = _provider_id(connection.data_reply, email)
        except Exception as exc:
            if connection is not None:
                _quit_quietly(connection)  # never reused after an error
            if not isinstance(exc, smtplib.SMTPException | OSError):
                raise  # ours already (STARTTLS not offered)
            if reused and _went_stale(exc, connection):
                raise _Stale from exc
            if isinstance(exc, smtplib.SMTPException):
                _raise_mapped(self._where(), exc, connection)
            _raise_lost(self._where(), exc, connection)  # refused, reset, timed out, TLS
        connection.idle_since = time.monotonic()
        self._local.connection = connection
        with self._kept_lock:
            self._kept.add(connection)
        return provider_id

    def _take(self) -> _Connection | None:
        """The thread's kept connection, if it is recent enough to trust; the caller owns it."""
        kept: _Connection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if kept is not None:
            with self._kept_lock:
                self._kept.discard(kept)
        if kept is not None and time.monotonic() - kept.idle_since > IDLE_SECONDS:
            _quit_quietly(kept)
            return None
        return kept

    def find(self, idempotency_key: str) -> str | None:
        raise lookup_unsupported(self)

    def _start(self, connection: _Connection) -> None:
        connection.ehlo()
        if self.starttls:
            if not connection.has_extn("starttls"):
                raise ProviderUnavailable(
                    f"{self._where()}: STARTTLS is configured but the server does not offer "
                    "it; refusing to send in clear text (fix NURTURE_SMTP_STARTTLS or the server)"
                )
            connection.starttls(context=self.ssl_context)
            connection.ehlo()
        if self.username is not None and self.password is not None:
            connection.login(self.username, self.password)

    def _where(self) -> str:
        return f"smtp {self.host}:{self.port}"


def _close_all(kept: set[_Connection], lock: threading.Lock) -> None:
    """When the provider goes away (or the process exits): close the idle connections."""
    with lock:
        for connection in kept:
            connection.close()
        kept.clear()


class _Stale(Exception):
    """A kept connection turned out closed before the message went out."""


def _went_stale(exc: Exception, connection: _Connection | None) -> bool:
    """Closed by the server while idle: it hung up (421 or the socket) before DATA."""
    if connection is not None and connection.data_started:
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


def _raise_mapped(where: str, exc: smtplib.SMTPException, conn: _Connection | None) -> NoReturn:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        _raise_for_code(f"{where}: recipient refused", code, text, exc, permanent_5xx=True)
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        what = "sender refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "data refused"
        _raise_for_code(f"{where}: {what}", exc.smtp_code, exc.smtp_error, exc, True)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        _raise_for_code(f"{where}: login failed", exc.smtp_code, exc.smtp_error, exc, False)
    if isinstance(exc, smtplib.SMTPResponseException):
        _raise_for_code(where, exc.smtp_code, exc.smtp_error, exc, permanent_5xx=False)
    _raise_lost(where, exc, conn)


def _raise_for_code(
    what: str, code: int, text: bytes | str, exc: Exception, permanent_5xx: bool
) -> NoReturn:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    message = f"{what}: {code} {reply}".rstrip()
    if permanent_5xx and 500 <= code < 600 and code not in _ACCESS_CODES:
        raise ProviderRejected(message) from exc
    raise ProviderUnavailable(message) from exc


def _raise_lost(where: str, exc: Exception, conn: _Connection | None) -> NoReturn:
    detail = str(exc) or type(exc).__name__
    if conn is not None and conn.data_started and conn.data_reply is None:
        raise DeliveryUnknown(
            f"{where}: connection lost after the message was sent: {detail}"
        ) from exc
    raise ProviderUnavailable(f"{where}: {detail}") from exc


def _quit_quietly(connection: _Connection) -> None:
    """QUIT, ignoring failures: once the server has answered DATA the message is its."""
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


def _provider_id(reply: tuple[int, bytes] | None, email: OutgoingEmail) -> str:
    match = _QUEUED_AS.search(reply[1]) if reply else None
    return match[1].decode("ascii") if match else email.rfc_message_id
