"""The scheduler: hand due enrollments to workers, and resolve messages stuck in flight.

It holds no state of its own: due work is found in the database every tick (DESIGN
invariant 1), claims are leases, and any number of schedulers may run at once. Work the
broker lost is found again the same way: an enrollment whose run_steps message vanished is
due again when its lease expires, a message whose deliver_messages job vanished is handed
out again after ``requeue_after``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from nurture.core.clock import Clock
from nurture.core.funnel import Funnel
from nurture.mail.providers import Provider
from nurture.services.delivery import reconcile, requeue_lost
from nurture.services.notifications import due_notifications
from nurture.services.scoring import due_for_review
from nurture.services.sla import sla_tick
from nurture.services.sunset import sunset_tick
from nurture.services.uow import Database
from nurture.store.claims import claim_due

log = logging.getLogger(__name__)

LOST_BATCH = 500  # queued messages re-enqueued per transaction
REVIEW_BATCH = 500  # leads handed to the decay review per transaction


@dataclass(frozen=True)
class SchedulerOptions:
    lease: timedelta = timedelta(minutes=5)  # a claimed enrollment not run by then is retaken
    batch: int = 1000  # enrollments claimed per transaction
    chunk: int = 50  # enrollment ids per run_steps message
    idle_seconds: float = 0.5  # pause when nothing was due
    reconcile_every: timedelta = timedelta(minutes=1)
    stuck_after: timedelta = timedelta(minutes=10)  # in `sending` this long = worker died
    # In `queued` this long with no attempt = its job was lost. Longer than the
    # deliver_messages actor's longest backoff (1 h), so a pending retry is not run early.
    requeue_after: timedelta = timedelta(hours=2)


def tick(database: Database, clock: Clock, options: SchedulerOptions) -> int:
    """Claim one batch of due enrollments and enqueue them (after commit); return how many."""
    with database.unit_of_work() as uow:
        ids = claim_due(uow.session, clock.now(), lease=options.lease, limit=options.batch)
        for start in range(0, len(ids), options.chunk):
            uow.jobs.enqueue("run_steps", ids[start : start + options.chunk])
    return len(ids)


def reconcile_tick(
    database: Database, provider: Provider, clock: Clock, options: SchedulerOptions
) -> dict[str, int]:
    """Resolve messages stuck in ``sending``, then hand out again every ``queued`` message
    whose job was lost (in batches, each its own transaction)."""
    with database.unit_of_work() as uow:
        counts = reconcile(uow.session, uow.jobs, provider, clock.now(), options.stuck_after)
    counts["lost"] = 0
    while True:
        with database.unit_of_work() as uow:
            found = requeue_lost(
                uow.session, uow.jobs, clock.now(), options.requeue_after, LOST_BATCH
            )
        counts["lost"] += found
        if found < LOST_BATCH:
            return counts


def review_tick(database: Database, clock: Clock) -> int:
    """Hand leads whose decayed score may now move them (``score_review_at`` passed) to
    ``process_engagement``: falling back happens without new events, and only those leads
    are read, not every lead."""
    total = 0
    while True:
        with database.unit_of_work() as uow:
            found = due_for_review(uow.session, uow.jobs, clock.now(), REVIEW_BATCH)
        total += found
        if found < REVIEW_BATCH:
            return total


def upkeep_tick(database: Database, clock: Clock, funnel: Funnel) -> None:
    """The funnel's periodic duties: handoff SLAs (reminders, reassignment), notifications
    whose retry time has come or whose job was lost, and the sunset of quiet leads."""
    with database.unit_of_work() as uow:
        sla = sla_tick(uow.session, uow.jobs, funnel, clock.now())
    if sla.reminded or sla.reassigned:
        log.info("handoff SLA: %d reminded, %d reassigned", sla.reminded, sla.reassigned)
    with database.unit_of_work() as uow:
        due_notifications(uow.session, uow.jobs, clock.now())
    with database.unit_of_work() as uow:
        counts = sunset_tick(uow.session, funnel, clock.now())
    if counts.started or counts.unengaged:
        log.info("sunset: %d started, %d now unengaged", counts.started, counts.unengaged)


class Scheduler:
    """The loop: tick until nothing is due, then idle; reconcile now and then."""

    def __init__(
        self,
        database: Database,
        provider: Provider,
        clock: Clock,
        options: SchedulerOptions | None = None,
        funnel: Callable[[], Funnel] | None = None,
    ) -> None:
        self.funnel = funnel  # the live funnel, for the sunset (reloads take effect)
        self.database = database
        self.provider = provider
        self.clock = clock
        self.options = options or SchedulerOptions()
        self.stopping = threading.Event()

    def run(self) -> None:
        next_reconcile = self.clock.now()
        while not self.stopping.is_set():
            try:
                claimed = tick(self.database, self.clock, self.options)
                if self.clock.now() >= next_reconcile:
                    counts = reconcile_tick(self.database, self.provider, self.clock, self.options)
                    if any(counts.values()):
                        log.warning("reconciled messages stuck in flight or lost: %s", counts)
                    review_tick(self.database, self.clock)
                    if self.funnel is not None:
                        upkeep_tick(self.database, self.clock, self.funnel())
                    next_reconcile = self.clock.now() + self.options.reconcile_every
            except Exception:  # keep scheduling; the error is logged and retried next tick
                log.exception("scheduler tick failed")
                claimed = 0
            if claimed < self.options.batch:
                self.stopping.wait(self.options.idle_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="nurture-scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
