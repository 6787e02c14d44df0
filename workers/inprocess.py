"""Worker threads inside `nurture run`, consuming the same broker as the API enqueues to."""

from __future__ import annotations

from dramatiq import Worker

from workers.broker import broker


def start_workers(threads: int = 4) -> Worker:
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker
