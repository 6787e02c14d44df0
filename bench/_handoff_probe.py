"""Timing probe for bench/handoff_latency.py's workers (not a benchmark itself).

Loaded beside the real actors, on the broker ``workers.broker`` sets up from NURTURE_*
settings, so the workers run exactly as an operator's do plus one middleware:

    dramatiq workers bench._handoff_probe --processes 2 --threads 8

For every message of the handoff path (``process_engagement``, ``process_hand_raisers``,
``deliver_notifications``)
it appends one JSON line to ``$BENCH_PROBE_DIR/probe-<pid>.jsonl``: actor, enqueue time
(the message timestamp, ms), start and end of processing (wall clock, s) and the
arguments (lead ids, notification ids). That splits a handoff's latency into its hops:
API -> queue wait -> processing -> queue wait -> delivery. Costs a few microseconds a
message.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import IO, Any

import dramatiq
from dramatiq.middleware import Middleware

from workers import broker

ACTORS = frozenset(
    {"process_engagement", "process_hand_raisers", "deliver_notification", "deliver_notifications"}
)


class HandoffProbe(Middleware):  # type: ignore[misc]
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()
        self.out: IO[str] | None = None
        self.pid = 0

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.actor_name in ACTORS:
            self.started[message.message_id] = time.time()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        start = self.started.pop(message.message_id, None)
        if start is None:
            return
        line = json.dumps(
            [
                message.actor_name,
                message.message_timestamp / 1000,
                start,
                time.time(),
                list(message.args),
                exception is None,
            ]
        )
        with self.lock:
            if self.out is None or self.pid != os.getpid():  # opened in the forked worker
                self.pid = os.getpid()
                path = self.folder / f"probe-{self.pid}.jsonl"
                self.out = path.open("a", buffering=1)
            self.out.write(line + "\n")


folder = os.environ.get("BENCH_PROBE_DIR")
if folder:
    broker.add_middleware(HandoffProbe(Path(folder)))
