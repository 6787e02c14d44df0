"""Fault tests: the engine as operators run it (``dramatiq workers`` and ``nurture scheduler``
processes) on real PostgreSQL and Redis, sending over SMTP to a catcher in this process.

``rig``     the database (``postgres_url``), a fresh Redis server, a small funnel whose two
            sends go out at once whatever the hour (``00:00-24:00``, every day), the SMTP
            catcher, and helpers to start processes, add leads and read the outcome.
            Every process is stopped (its whole group) when the test ends, pass or fail;
            on failure each process log is printed.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nurture.config import load_funnel
from nurture.core.funnel import Funnel
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.uow import Database
from nurture.store.db import make_engine
from nurture.store.models import Enrollment, Message
from tests.faults.harness import HoldingCatcher, MailFolder, Proc, Processes, RedisServer

REPO = Path(__file__).resolve().parents[2]
SEND_STEPS = ("welcome", "second")

PIPELINE = """\
version: 1
sequences:
  cold: faults
sender:
  from: "Maya Chen <maya@lumen-analytics.example>"
  postal_address: "548 Market St, San Francisco, CA 94104"
send_window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  hours: "00:00-24:00"
frequency_cap:
  max: 100
  per: 1d
sample_lead:
  email: jordan@northwind.example
  first_name: Jordan
  time_zone: UTC
"""

SEQUENCE = """\
id: faults
stages: [cold]
steps:
  - id: welcome
    send: {template: cold/welcome.html, subject: "Welcome, {{ lead.first_name }}"}
  - id: second
    send: {template: cold/metrics-guide.html, subject: "Second, {{ lead.first_name }}"}
  - id: done
    exit: completed
"""


FAILED = pytest.StashKey[bool]()  # whether the test itself failed, for its fixtures' teardown


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_funnel(folder: Path) -> Path:
    shutil.copytree(REPO / "templates", folder / "templates")
    (folder / "sequences").mkdir()
    (folder / "nurture.yaml").write_text(PIPELINE)
    (folder / "sequences" / "faults.yaml").write_text(SEQUENCE)
    return folder


@dataclass
class Rig:
    """One engine under test: its settings, processes and database."""

    db_url: str
    database: Database
    funnel: Funnel
    funnel_dir: Path
    var_dir: Path
    redis: RedisServer
    processes: Processes
    catcher: HoldingCatcher
    provider: str = "smtp"

    @property
    def mail(self) -> MailFolder:
        """Where sent mail lands: the catcher's folder, or the outbox."""
        if self.provider == "smtp":
            return self._catcher_mail
        return self._outbox_mail

    def __post_init__(self) -> None:
        self._catcher_mail = MailFolder(self.catcher.directory)
        self._outbox_mail = MailFolder(self.var_dir / "outbox")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
        env.update(
            NURTURE_DATABASE_URL=self.db_url,
            NURTURE_REDIS_URL=self.redis.url,
            NURTURE_FUNNEL_DIR=str(self.funnel_dir),
            NURTURE_VAR_DIR=str(self.var_dir),
            NURTURE_PROVIDER=self.provider,
            NURTURE_SMTP_HOST=self.catcher.host,
            NURTURE_SMTP_PORT=str(self.catcher.port),
            NURTURE_SECRET_KEY="s" * 32,
            NURTURE_API_KEYS="fault-tests",
            NURTURE_LOG_LEVEL="info",
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
            dramatiq_worker_timeout="100",  # idle consumers poll every 100 ms, not 1 s
        )
        return env

    def start_worker(self, threads: int = 4, queues: tuple[str, ...] = ()) -> Proc:
        """A ``dramatiq workers`` process; only the given queues if any ("steps", "mail")."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "dramatiq", "workers"]
        argv += ["--processes", "1", "--threads", str(threads)]
        argv += ["--queues", *queues] if queues else []
        return self.processes.start("worker", argv, self.env(), self.var_dir)

    def start_scheduler(
        self,
        lease: float = 4,
        reconcile_after: float = 3,
        requeue_after: float = 20,
        reconcile_every: float = 1,
        chunk: int = 50,
    ) -> Proc:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        # requeue_after exceeds the time these tests' backlogs take to drain: a job that is
        # only waiting would get a duplicate (harmless: only a queued row is sent; but slow).
        argv = [sys.executable, "-m", "nurture.cli", "scheduler"]
        argv += ["--lease-seconds", str(lease), "--reconcile-after-seconds", str(reconcile_after)]
        argv += ["--requeue-after-seconds", str(requeue_after)]
        argv += ["--reconcile-every-seconds", str(reconcile_every), "--chunk-size", str(chunk)]
        return self.processes.start("scheduler", argv, self.env(), self.var_dir)

    def add_leads(self, count: int) -> None:
        """``count`` leads, enrolled and due at once."""
        items = [
            LeadIn.model_validate(
                {"email": f"lead{i}@faults.example", "first_name": f"Lead{i}", "time_zone": "UTC"}
            )
            for i in range(count)
        ]
        with self.database.unit_of_work() as uow:
            upsert_leads(
                uow.session, self.funnel, items, now=datetime.now(UTC), default_time_zone="UTC"
            )

    def messages(self) -> list[Message]:
        with self.database.unit_of_work(readonly=True) as uow:
            return list(uow.session.scalars(select(Message).order_by(Message.id)))

    def statuses(self) -> Counter[str]:
        with self.database.unit_of_work(readonly=True) as uow:
            rows = uow.session.execute(select(Message.status, func.count()).group_by("status"))
            return Counter({status: count for status, count in rows})

    def live_enrollments(self) -> int:
        with self.database.unit_of_work(readonly=True) as uow:
            live = Enrollment.status.in_(("active", "waiting_for_event"))
            return uow.session.scalar(select(func.count()).where(live)) or 0

    def settled(self, leads: int) -> bool:
        """Every send step recorded for every lead, no enrollment left, no message in flight."""
        counts = self.statuses()
        return (
            counts.total() == leads * len(SEND_STEPS)
            and counts["queued"] == counts["sending"] == 0
            and self.live_enrollments() == 0
        )

    def state(self) -> str:
        return (
            f"messages {dict(self.statuses())}, live enrollments {self.live_enrollments()}, "
            f"mail copies {len(self.mail.copies())}"
        )


@pytest.fixture
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Processes]:
    """Processes the test starts; all stopped at the end, their logs printed on failure."""
    started = Processes(tmp_path / "logs")
    yield started
    started.stop_all()
    if request.node.stash.get(FAILED, True):
        print(f"\n===== process logs ({tmp_path / 'logs'})\n{started.report()}")


@pytest.fixture
def redis_server(processes: Processes) -> Iterator[RedisServer]:
    """A Redis server of this test's own (no queue left over from another test)."""
    folder = Path(tempfile.mkdtemp(prefix="nurture-redis-"))
    server = RedisServer(folder, processes)
    server.start()
    yield server
    processes.stop_all()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def rig(
    postgres_url: str, redis_server: RedisServer, processes: Processes, tmp_path: Path
) -> Iterator[Rig]:
    funnel_dir = write_funnel(tmp_path / "funnel")
    catcher = HoldingCatcher("127.0.0.1", free_port(), tmp_path / "caught")
    catcher.start()
    engine = make_engine(postgres_url)
    try:
        yield Rig(
            db_url=postgres_url,
            database=Database(engine),
            funnel=load_funnel(funnel_dir),
            funnel_dir=funnel_dir,
            var_dir=tmp_path / "var",
            redis=redis_server,
            processes=processes,
            catcher=catcher,
        )
    finally:
        processes.stop_all()  # before the database is dropped and the catcher goes
        catcher.stop()
        engine.dispose()
