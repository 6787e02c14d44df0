"""Dramatiq workers. Importing this package sets up the broker from NURTURE_* settings
(Redis when NURTURE_REDIS_URL is set, else an in-process broker) and declares the actors.

Run against Redis with ``dramatiq workers`` (or ``nurture worker``); ``nurture run`` starts
in-process worker threads instead.
"""

from __future__ import annotations

from workers import actors
from workers.boot import WarmUp
from workers.broker import broker, dispatch

broker.add_middleware(WarmUp())  # the runtime is built at boot, not by the first message

__all__ = ["actors", "broker", "dispatch"]
