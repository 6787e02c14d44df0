"""`nurture run`'s in-process workers consume every queue the actors use, the hand-raisers'
fast lane included."""

from __future__ import annotations

import pytest

from nurture.services.uow import Database
from nurture.store.db import make_engine
from tests.support import make_runtime
from workers import broker
from workers.inprocess import start_workers
from workers.runtime import set_runtime


@pytest.fixture
def runtime_set(sqlite_url):
    """`nurture run` sets its runtime before starting the workers."""
    database = Database(make_engine(sqlite_url))
    set_runtime(make_runtime(database))
    yield
    set_runtime(None)
    database.engine.dispose()


def test_the_in_process_workers_consume_every_queue_including_handoffs(runtime_set):
    worker = start_workers(threads=1)
    try:
        assert "handoffs" in broker.get_declared_queues()
        assert set(worker.consumers) >= broker.get_declared_queues()
    finally:
        worker.stop(timeout=1000)
