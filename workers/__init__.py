"""Dramatiq workers. Importing this package sets up the broker from NURTURE_* settings
(Redis when NURTURE_REDIS_URL is set, else an in-process broker) and declares the actors.

Run against Redis with ``dramatiq workers`` (or ``nurture worker``); ``nurture run`` starts
in-process worker threads instead.
"""

from __future__ import annotations

from workers import actors
from workers.broker import broker, dispatch

__all__ = ["actors", "broker", "dispatch"]
