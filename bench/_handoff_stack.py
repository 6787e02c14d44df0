"""The processes of bench/handoff_latency.py: the Slack/CRM stand-in, ``nurture api`` and the
Dramatiq workers (in one of the LAYOUTS) on one database, and waiting on them."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import time
from collections.abc import Callable

import httpx
from _handoff_hops import arrivals
from _harness import REPO, Db, Processes, Servers, child_env, note
from _send_measure import wait_ready

READY = "Worker process is ready for action."
DEADLOCK = "(psycopg.errors.DeadlockDetected)"  # once per failed job (SQLAlchemy's wrapper)
# Worker layouts, each two worker processes (one per command here, or --processes 2):
# "shared" is what the other benches and docker-compose run: every queue in every process.
# "split" gives the handoff path a process of its own: the hand-raisers' fast lane
# (queue handoffs, process_hand_raisers) and the notifications, so neither a demo request
# nor its Slack message waits behind the engagement backlog or behind threads blocked on
# its row locks; the recommended layout (docs/operations-latency.md).
# The engagement process's threads: 2, not Dramatiq's 8. A Python process runs on one core
# whatever its threads, and more jobs at once only wait on each other's row locks and
# deadlock (measured: 8 threads -> 3-4 sessions waiting, 20-50 deadlocks per 1,000 events/s
# phase; 2 threads -> 0.2 waiting, 2 deadlocks, and more handoffs delivered).
THREADS = os.environ.get("BENCH_HANDOFF_THREADS", "2")
LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "shared": {"workers": ("--processes", "2", "--threads", "8")},
    "split": {
        "workers-engagement": (
            "--processes", "1", "--threads", THREADS, "--queues", "engagement", "steps", "mail",
        ),
        "workers-handoffs": (
            "--processes", "1", "--threads", "4", "--queues", "handoffs", "notifications",
        ),
    },
}  # fmt: skip
WORKER_TIMEOUT_MS = "100"  # dramatiq_worker_timeout: the DESIGN setting for the handoff path
# The engagement process runs niced (throughput work that may lag), so the kernel gives the
# handoff process, the API and PostgreSQL the CPU first; BENCH_HANDOFF_NICE=0 to compare.
NICE = {"workers-engagement": os.environ.get("BENCH_HANDOFF_NICE", "10")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def nice_prefix(name: str) -> str:
    level = NICE.get(name, "0")
    return f"nice -n {level} " if level != "0" else ""


def layout_line(layout: str) -> str:
    commands = "; ".join(
        f"{nice_prefix(name)}dramatiq workers {' '.join(args)}"
        for name, args in LAYOUTS[layout].items()
    )
    return f"workers ({layout}): {commands}; dramatiq_worker_timeout={WORKER_TIMEOUT_MS}"


class Stack:
    """The stand-in, the API and the workers on one database; URLs and files."""

    def __init__(self, srv: Servers, db: Db, running: Processes, layout: str) -> None:
        self.db, self.running, self.srv = db, running, srv
        self.stamps = srv.workdir / "stamps.txt"
        self.probe_dir = srv.workdir / "probe"
        self.probe_dir.mkdir()
        self.lead_ids: dict[str, int] = {}
        slack_port, api_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{api_port}"
        stand_in = f"http://127.0.0.1:{slack_port}"
        running.start(
            "slack", [sys.executable, "bench/_handoff_slack.py", str(slack_port), str(self.stamps)],
            dict(os.environ),
        )  # fmt: skip
        env = child_env(
            srv,
            db,
            REPO,  # the example funnel
            NURTURE_PROVIDER="memory",
            NURTURE_BASE_URL=self.base,
            NURTURE_SLACK_WEBHOOK_URL=f"{stand_in}/slack",
            NURTURE_CRM_WEBHOOK_URL=f"{stand_in}/crm",
            NURTURE_CRM_WEBHOOK_SECRET=secrets.token_hex(16),
            BENCH_PROBE_DIR=str(self.probe_dir),
            dramatiq_worker_timeout=WORKER_TIMEOUT_MS,
        )
        api = [sys.executable, "-m", "nurture.cli", "api", "--host", "127.0.0.1"]
        running.start("api", [*api, "--port", str(api_port)], env)
        ready = {"slack": ("listening", 1)}
        for name, args in LAYOUTS[layout].items():
            command = [sys.executable, "-m", "dramatiq", "workers", "bench._handoff_probe"]
            niced = nice_prefix(name).split()  # nice execs the worker: same pid
            running.start(name, [*niced, *command, *args], env)
            ready[name] = (READY, int(args[1]))
        wait_ready(running, ready)
        self.wait(self.api_up, "the API to answer", 60)

    def api_up(self) -> bool:
        try:
            return httpx.get(f"{self.base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def deadlocks(self) -> int:
        """Deadlocks the workers logged so far (each one a job retried after a backoff)."""
        return sum(
            (self.running.logdir / f"{name}.log").read_text(errors="replace").count(DEADLOCK)
            for name in self.running.children
            if name.startswith("workers")
        )

    def queued(self) -> int:
        """Messages enqueued and not yet acknowledged, over every queue."""
        redis = self.srv.redis
        return sum(int(redis.hlen(key)) for key in redis.keys("dramatiq:*.msgs"))

    def wait(self, condition: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.running.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not after {timeout:.0f} s\n{self.running.logs()}")
            time.sleep(0.1)

    def wait_arrivals(self, emails: set[str], stall_s: float, cap_s: float) -> dict[str, float]:
        """Slack receipts of ``emails`` once all came, or none came for ``stall_s``, or
        ``cap_s`` passed."""
        last_count, last_change = -1, time.monotonic()
        deadline = time.monotonic() + cap_s
        while True:
            got = {e: t for e, t in arrivals(self.stamps).items() if e in emails}
            now = time.monotonic()
            if len(got) == len(emails):
                return got
            if len(got) != last_count:
                last_count, last_change = len(got), now
            elif now - last_change > stall_s or now > deadline:
                note(f"  stopped waiting: {len(emails) - len(got)} Slack messages missing")
                return got
            self.running.check_alive()
            time.sleep(0.25)
