"""Measuring pieces of bench/send_loop.py: waiting for the processes to be ready, and the
CPU time each kind of process (workers, scheduler, PostgreSQL, Redis) spends per email."""

from __future__ import annotations

import time

from _harness import WORKER_ARGS, Processes, Servers

# What each process logs once it is ready for work, and how many times.
SCHEDULER_READY = ("scheduler running", 1)
WORKERS_READY = ("Worker process is ready for action.", int(WORKER_ARGS[1]))
BOOT_S = 60.0  # longer than this to start: something is broken, stop with the logs

Snapshot = dict[int, tuple[str, float]]  # pid -> (role, CPU seconds so far)


def wait_ready(running: Processes, expected: dict[str, tuple[str, int]]) -> None:
    """Wait until each named process has logged its line (text, times) saying it is ready."""
    deadline = time.monotonic() + BOOT_S

    def ready(name: str, text: str, times: int) -> bool:
        path = running.logdir / f"{name}.log"
        return path.exists() and path.read_text(errors="replace").count(text) >= times

    while not all(ready(name, text, n) for name, (text, n) in expected.items()):
        running.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready after {BOOT_S:.0f} s\n{running.logs()}")
        time.sleep(0.05)


def cpu_snapshot(srv: Servers, running: Processes) -> Snapshot:
    """CPU seconds (user + system, all threads) so far of each process of the run, by role:
    each child with its descendants (the worker processes), PostgreSQL (postmaster and
    backends) and Redis."""
    import psutil

    roots = {name: child.pid for name, child in running.children.items()}
    postmaster = (srv.postgres.pgdata / "postmaster.pid").read_text().split()[0]
    roots["postgres"] = int(postmaster)
    roots["redis"] = int(srv.redis.pid)
    found: Snapshot = {}
    for role, pid in roots.items():
        try:
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                times = process.cpu_times()
                found[process.pid] = (role, times.user + times.system)
        except psutil.NoSuchProcess:
            continue
    return found


def cpu_used(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds used by each role between two snapshots (a process that ended in
    between is not counted: none of the run's should)."""
    used: dict[str, float] = {}
    for pid, (role, seconds) in after.items():
        used[role] = used.get(role, 0.0) + seconds - before.get(pid, (role, 0.0))[1]
    return used
