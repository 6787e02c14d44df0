"""A local SMTP catcher for ``nurture run --smtp-catcher``: a real SMTP server (aiosmtpd)
that keeps every message it receives as an .eml file and delivers nothing.

It lets the ``smtp`` provider be exercised end to end on a laptop, without Mailpit:

    catcher = SmtpCatcher("127.0.0.1", 1025, settings.var_dir / "outbox" / "smtp")
    catcher.start()          # serves from a background thread
    ...
    catcher.stop()

Files are named by arrival time, so a message sent twice shows up twice (what the catcher
is for). Each is written to a temporary name and renamed, so a reader never sees half of
one. The server answers "250 Ok: queued as <file stem>", which the smtp provider stores.
"""

from __future__ import annotations

import itertools
import logging
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from nurture.core.clock import SYSTEM_CLOCK
from nurture.mail.providers.outbox import write_atomically

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY = Path("var/outbox/smtp")


class _Handler:
    """aiosmtpd handler: one file per accepted message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sequence = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        stamp = SYSTEM_CLOCK.now().strftime("%Y%m%dT%H%M%S%f")
        stem = f"{stamp}-{next(self._sequence):06d}"
        trace = (
            f"Return-Path: <{envelope.mail_from or ''}>\r\n"
            f"X-Catcher-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        path = self.directory / f"{stem}.eml"
        try:
            write_atomically(path, trace + content)  # small local files: blocking is fine
        except OSError as exc:  # a 4xx, so the sender retries instead of failing the message
            log.error("SMTP catcher cannot store %s: %s", path, exc)
            return "451 4.3.0 cannot store the message right now"
        subject = BytesHeaderParser(policy=default_policy).parsebytes(content)["Subject"]
        log.info(
            "caught %s from=%s to=%s subject=%r",
            path.name,
            envelope.mail_from,
            ",".join(envelope.rcpt_tos),
            str(subject or ""),
        )
        return f"250 2.0.0 Ok: queued as {stem}"


class SmtpCatcher:
    """An SMTP server on ``host:port`` that stores every message under ``directory``."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 1025, directory: Path = DEFAULT_DIRECTORY
    ) -> None:
        self.host = host
        self.port = port
        self.directory = Path(directory)
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Bind and serve from a background thread; returns once the server answers."""
        if self._controller is not None:
            raise RuntimeError("the SMTP catcher is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        controller = Controller(
            _Handler(self.directory),
            hostname=self.host,
            port=self.port,
            server_hostname="nurture-catcher",  # skips a slow reverse DNS lookup
            ready_timeout=10.0,
        )
        controller.start()
        self._controller = controller
        log.info(
            "SMTP catcher listening on %s:%s, saving to %s", self.host, self.port, self.directory
        )

    def stop(self) -> None:
        """Stop serving; a no-op when not running."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpCatcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
