"""A worker builds its runtime (funnel, engine connection, notifiers) when it boots, so the
first hand-raiser after a deploy does not pay for it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

import workers.runtime
from workers.boot import WarmUp
from workers.runtime import set_runtime

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def booted(monkeypatch, sqlite_url):
    """Boot a worker on a broker of its own (with WarmUp), as `dramatiq workers` does."""
    monkeypatch.setenv("NURTURE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NURTURE_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/slack")
    set_runtime(None)
    broker = StubBroker()
    broker.add_middleware(WarmUp())
    started: list[Worker] = []

    def boot() -> None:
        worker = Worker(broker, worker_threads=1, worker_timeout=50)
        worker.start()
        started.append(worker)

    yield boot
    for worker in started:
        worker.stop(timeout=1000)
    if workers.runtime._runtime is not None:
        workers.runtime._runtime.database.engine.dispose()
    set_runtime(None)


def test_the_runtime_and_its_notifiers_are_built_at_boot(booted, monkeypatch):
    # Given the shipped funnel and no runtime yet
    monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(REPO))
    # When a worker boots, before any message
    booted()
    # Then the runtime is there, with its notifiers and a pooled connection
    runtime = workers.runtime._runtime
    assert runtime is not None
    assert runtime._notifiers is not None and "slack" in runtime._notifiers
    assert runtime.database.engine.pool.checkedin() == 1


def test_a_runtime_that_cannot_be_built_is_logged_and_the_worker_still_boots(
    booted, monkeypatch, tmp_path, caplog
):
    monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(tmp_path))  # no nurture.yaml here
    with caplog.at_level(logging.ERROR, logger="workers.boot"):
        booted()
    assert workers.runtime._runtime is None
    assert "could not build the runtime at worker boot" in caplog.text
