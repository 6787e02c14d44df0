"""HTTP tests over the shipped funnel: the sending loop of tests/services (frozen clock,
jobs run inline after commit, the in-memory provider) and a client on its runtime."""

import pytest
from fastapi.testclient import TestClient

from nurture.core.clock import FrozenClock
from nurture.mail.providers import MemoryProvider
from nurture.web.app import create_app
from tests.services.conftest import MONDAY_9AM_CHICAGO, Loop
from tests.support import shipped_runtime


@pytest.fixture
def loop(database, tmp_path):
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    provider = MemoryProvider()
    harness = Loop(shipped_runtime(database, tmp_path, provider, clock), clock, provider)
    database.dispatcher = harness.run_job
    return harness


@pytest.fixture
def client(loop):
    with TestClient(create_app(loop.runtime)) as test_client:
        yield test_client
