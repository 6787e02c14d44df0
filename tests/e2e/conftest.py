"""The engine as operators run it, for end-to-end tests: ``nurture api``, ``nurture
scheduler`` and ``dramatiq workers`` processes on PostgreSQL and a real Redis, and a funnel
folder written for the test (the shipped templates, its own nurture.yaml and sequences)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import free_port
from tests.faults.harness import Processes, RedisServer, wait_until

REPO = Path(__file__).resolve().parents[2]
API_KEY = "e2e-api-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
#: nurture.yaml lines of a funnel that may send at any hour (end-to-end tests run now).
ALWAYS_OPEN = """\
sender:
  from: "Maya Chen <maya@lumen-analytics.example>"
  postal_address: "548 Market St, San Francisco, CA 94104"
send_window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  hours: "00:00-24:00"
frequency_cap:
  max: 100
  per: 1d
"""


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Every process stopped at the end; their logs printed (pytest shows them on failure)."""
    started = Processes(tmp_path / "logs")
    yield started
    started.stop_all()
    print(started.report())


@pytest.fixture
def redis_url(processes: Processes) -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="nurture-redis-"))  # short: a socket path
    server = RedisServer(folder, processes)
    server.start()
    yield server.url
    processes.stop_all()
    shutil.rmtree(folder, ignore_errors=True)


def write_funnel(folder: Path, pipeline: str, sequences: dict[str, str]) -> Path:
    """A funnel folder: the shipped templates, ``pipeline`` as nurture.yaml, and each
    sequence as ``sequences/<name>.yaml``."""
    shutil.copytree(REPO / "templates", folder / "templates")
    (folder / "sequences").mkdir()
    (folder / "nurture.yaml").write_text(pipeline)
    for name, text in sequences.items():
        (folder / "sequences" / f"{name}.yaml").write_text(text)
    return folder


def start_engine(
    processes: Processes,
    tmp_path: Path,
    *,
    postgres_url: str,
    redis_url: str,
    funnel: Path,
    settings: dict[str, str] | None = None,
    scheduler_args: tuple[str, ...] = (),
) -> str:
    """Start API, one worker process (2 threads) and the scheduler; return the API's URL
    once it answers. ``settings`` are more NURTURE_* variables; email goes to
    ``tmp_path/var/outbox`` unless they say otherwise."""
    port = free_port()
    var = tmp_path / "var"
    var.mkdir(exist_ok=True)
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
        | {
            "NURTURE_DATABASE_URL": postgres_url,
            "NURTURE_REDIS_URL": redis_url,
            "NURTURE_FUNNEL_DIR": str(funnel),
            "NURTURE_VAR_DIR": str(var),
            "NURTURE_PROVIDER": "outbox",
            "NURTURE_SECRET_KEY": "s" * 32,
            "NURTURE_API_KEYS": API_KEY,
            "NURTURE_BASE_URL": f"http://127.0.0.1:{port}",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "dramatiq_worker_timeout": "100",  # the handoff path: poll the queues every 100 ms
        }
        | (settings or {})
    )
    nurture = [sys.executable, "-m", "nurture.cli"]
    processes.start(
        "api", [*nurture, "api", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path
    )
    processes.start(
        "worker",
        [sys.executable, "-m", "dramatiq", "workers", "--processes", "1", "--threads", "2"],
        env,
        tmp_path,
    )
    processes.start("scheduler", [*nurture, "scheduler", *scheduler_args], env, tmp_path)
    base = f"http://127.0.0.1:{port}"

    def api_up() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(api_up, timeout=30, what="the API to answer", processes=processes)
    return base


def waiter(processes: Processes) -> Callable[[Callable[[], object], str], None]:
    """``wait(check, what)``: poll ``check`` for up to 30 s, failing with the logs."""

    def wait(check: Callable[[], object], what: str) -> None:
        wait_until(check, timeout=30, what=what, processes=processes)

    return wait
