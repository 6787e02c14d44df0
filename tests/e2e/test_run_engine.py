"""`nurture run` as a user starts it: a subprocess on a free port, the shipped funnel."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
NURTURE = [sys.executable, "-m", "nurture.cli"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(base, process, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"engine exited early:\n{process.stdout.read()}")
        try:
            response = httpx.get(f"{base}/health", timeout=1.0)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("engine did not become healthy")


@pytest.fixture
def funnel_dir(tmp_path):
    """A copy of the shipped example funnel that a test may break."""
    target = tmp_path / "funnel"
    target.mkdir()
    shutil.copy(REPO / "nurture.yaml", target)
    shutil.copytree(REPO / "sequences", target / "sequences")
    shutil.copytree(REPO / "templates", target / "templates")
    return target


@pytest.fixture
def engine(tmp_path, funnel_dir):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")},
        "NURTURE_DATABASE_URL": f"sqlite:///{tmp_path}/nurture.db",
        "NURTURE_VAR_DIR": str(tmp_path / "var"),
        "NURTURE_FUNNEL_DIR": str(funnel_dir),
        "NURTURE_PORT": str(port),
    }
    subprocess.run([*NURTURE, "migrate"], env=env, check=True, capture_output=True, cwd=tmp_path)
    process = subprocess.Popen(
        [*NURTURE, "run"],
        env=env,
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for_health(base, process)
        key = (tmp_path / "var" / "api-key").read_text().strip()
        yield base, {"Authorization": f"Bearer {key}"}, health, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.mark.slow
def test_engine_serves_api_and_enrolls_a_new_lead(engine):
    base, auth, health, _ = engine
    assert health["status"] == "ok" and len(health["funnel_version"]) == 64

    created = httpx.post(
        f"{base}/v1/leads",
        json={"email": "jordan.rivera@northwind.example", "first_name": "Jordan"},
        headers=auth,
        timeout=10.0,
    )
    assert created.status_code == 201, created.text
    lead_id = created.json()["leads"][0]["id"]

    detail = httpx.get(f"{base}/v1/leads/{lead_id}", headers=auth, timeout=10.0).json()
    assert detail["stage"] == "cold"
    [enrollment] = detail["enrollments"]
    assert enrollment["sequence_id"] == "cold-education"
    assert enrollment["current_step"] == "welcome"
    assert enrollment["config_version"] == health["funnel_version"]

    docs = httpx.get(f"{base}/docs", timeout=10.0)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.slow
def test_bad_funnel_on_reload_is_refused_and_the_last_good_one_keeps_running(engine, funnel_dir):
    base, auth, health, process = engine
    good_version = health["funnel_version"]
    cold = funnel_dir / "sequences" / "cold-education.yaml"
    cold.write_text(cold.read_text().replace("goto: pause-before-ask", "goto: pause-befor-ask"))

    refused = httpx.post(f"{base}/v1/funnel/reload", headers=auth, timeout=30.0)
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["file"].endswith("cold-education.yaml")
    assert problem["hint"] == "pause-before-ask"
    process.send_signal(signal.SIGHUP)  # the signal path refuses it too
    assert httpx.get(f"{base}/health", timeout=5.0).json()["funnel_version"] == good_version

    cold.write_text(cold.read_text().replace("pause-befor-ask", "pause-before-ask") + "\n# ok\n")
    accepted = httpx.post(f"{base}/v1/funnel/reload", headers=auth, timeout=30.0).json()
    assert accepted["changed"] is True and accepted["version"] != good_version
    assert httpx.get(f"{base}/health", timeout=5.0).json()["funnel_version"] == accepted["version"]
