"""Build the process's runtime when a worker boots, not on its first message.

Without this, the first message a ``dramatiq workers`` process takes pays for loading the
funnel, the engine's first connection and the notifiers' HTTP client: with the handoff
path in a process of its own, that was the first hand-raiser after a deploy, 0.8-4 s late
(docs/operations-latency.md). ``after_worker_boot`` runs in every worker process (and in
``nurture run``'s in-process worker, whose runtime is already set: nothing to do), after
the worker threads start and before Dramatiq logs the process ready.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dramatiq.middleware import Middleware
from sqlalchemy import text

from workers.runtime import get_runtime

if TYPE_CHECKING:
    import dramatiq

log = logging.getLogger(__name__)


class WarmUp(Middleware):
    """``get_runtime()``, ``rt.notifiers()`` and one pooled database connection at boot."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        try:
            warm_up()
        except Exception:  # the first message builds it again and reports the same error
            log.exception("could not build the runtime at worker boot")


def warm_up() -> None:
    """Everything a message of the handoff path would otherwise build first."""
    from nurture.services import engagement, notifications  # noqa: F401  (the actors' imports)

    rt = get_runtime()
    rt.notifiers()
    with rt.database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
