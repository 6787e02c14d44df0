"""`nurture run`'s in-process workers consume every queue the actors use, the hand-raisers'
fast lane included."""

from __future__ import annotations

from workers import broker
from workers.inprocess import start_workers


def test_the_in_process_workers_consume_every_queue_including_handoffs():
    worker = start_workers(threads=1)
    try:
        assert "handoffs" in broker.get_declared_queues()
        assert set(worker.consumers) >= broker.get_declared_queues()
    finally:
        worker.stop(timeout=1000)
