"""A no-op Dramatiq actor for bench/send_loop.py's broker baseline (not a benchmark itself).

Loaded beside the real actors, on the broker ``workers.broker`` sets up from NURTURE_*
settings, so the baseline workers are configured exactly like the send-loop workers:

    dramatiq workers bench._noop_actor --processes 2 --threads 8
"""

from __future__ import annotations

import dramatiq

from workers.broker import broker

QUEUE = "bench-noop"


@dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=0)
def noop() -> None:
    """Does nothing: what is left is the broker and worker overhead per message."""
