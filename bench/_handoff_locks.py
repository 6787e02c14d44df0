"""What the database sessions of bench/handoff_latency.py do during a phase: every half
second, how many are running, and how many wait for a row lock and on which table, from
``pg_stat_activity``. A queue that grows while few sessions run and many wait is held up by
locks, not by CPU."""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType

import psycopg

EVERY_S = 0.5
SAMPLE = """
SELECT CASE
         WHEN wait_event_type = 'Lock' AND query ILIKE '%rep_states%' THEN 'waiting rep_states'
         WHEN wait_event_type = 'Lock' AND query ILIKE '%FROM leads%' THEN 'waiting leads'
         WHEN wait_event_type = 'Lock' THEN 'waiting other'
         ELSE 'running'
       END, count(*)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
GROUP BY 1
"""
#: What the running sessions run: the statements that keep PostgreSQL busy.
RUNNING = """
SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90), count(*)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
  AND wait_event_type IS DISTINCT FROM 'Lock'
GROUP BY 1
"""


class LockSampler:
    """Use as ``with LockSampler(conninfo) as sampler: ...``, then ``sampler.line()``."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.totals: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.wait(EVERY_S):
                for what, count in conn.execute(SAMPLE):
                    self.totals[str(what)] += int(count)
                for statement, count in conn.execute(RUNNING):
                    self.statements[str(statement)] += int(count)
                self.samples += 1

    def line(self) -> str:
        """Mean sessions in each state over the samples."""
        if not self.samples:
            return "no samples"
        kinds = ("running", "waiting leads", "waiting rep_states", "waiting other")
        return ", ".join(f"{kind} {self.totals[kind] / self.samples:.1f}" for kind in kinds)

    def busiest(self, top: int = 5) -> list[str]:
        """The statements running most often, as mean sessions running each."""
        return [
            f"{count / max(self.samples, 1):.2f} {statement}"
            for statement, count in self.statements.most_common(top)
        ]
