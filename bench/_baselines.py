"""The same-run baselines the benches compare with: Dramatiq no-op messages/s on workers
started like the bench's, plain multi-row INSERTs of message rows, and the scheduler's tick
time at a given number enrolled (bench/send_loop.py, bench/process.py)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from _funnel import BenchFunnel, load_enrollments, sample_mime
from _harness import (
    INSERT_BATCH,
    NOOP_QUEUE,
    SEQUENCE,
    TICK_DUE,
    TICK_RUNS,
    WORKER_ARGS,
    Servers,
    child_env,
    note,
    processes,
    short,
    wait_for,
)
from _send_measure import WORKERS_READY, wait_ready

from nurture.core.clock import SYSTEM_CLOCK
from nurture.services.scheduling import SchedulerOptions, tick
from nurture.services.uow import Database
from nurture.store.db import make_engine


def noop_baseline(
    srv: Servers, funnel_dir: Path, total: int, worker_args: Sequence[str] = WORKER_ARGS
) -> float:
    """Messages/s of no-op actors on workers started like the bench's own (``worker_args``),
    from when they are ready until the queue is drained (all acknowledged)."""
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
            env = child_env(srv, db, funnel_dir, NURTURE_PROVIDER="memory")
            running.start(
                "noop-workers",
                [sys.executable, "-m", "dramatiq", "workers", "bench._noop_actor", *worker_args],
                env,
            )
            wait_ready(running, {"noop-workers": WORKERS_READY})
            started = time.perf_counter()
            before = total - int(srv.redis.hlen(pending))  # taken while we noticed they were up

            def progress() -> tuple[int, int]:
                done = total - int(srv.redis.hlen(pending))
                return done, done

            seconds, _ = wait_for(progress, total, running, "no-op", started)
            return (total - before) / seconds
    finally:
        broker.close()


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
