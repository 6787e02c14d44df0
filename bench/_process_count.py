"""Counts the ``process_engagement`` jobs the workers of bench/process.py run, and the leads
they were given, in Redis (not a benchmark itself). A job may enqueue more
(``rescore_account_peers``: colleagues whose account signal changed, of whom those rescored
since are skipped), so these show how much work the run really was.

Loaded beside the real actors, adding a middleware to the broker ``workers.broker`` sets up:

    dramatiq workers bench._process_count --processes 2 --threads 8
"""

from __future__ import annotations

from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from nurture.settings import load_settings
from workers.broker import broker

ACTORS = frozenset({"process_engagement", "rescore_account_peers"})
JOBS = "bench:process:jobs"
LEADS = "bench:process:leads"


class CountJobs(Middleware):
    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        if message.actor_name not in ACTORS or exception is not None:
            return
        with self.redis.pipeline() as pipe:
            pipe.incr(JOBS)
            pipe.incrby(LEADS, len(message.args[0]))
            pipe.execute()


broker.add_middleware(CountJobs(load_settings().redis_url or ""))
