"""Unit of work: one transaction plus the jobs it produced, sent only after commit.

Services take ``uow.session`` and ``uow.jobs`` and never commit; the edge (API dependency,
CLI command, actor) opens the unit of work, which commits and then hands the buffered jobs
to the dispatcher. On error it rolls back and drops them (Polar's JobQueueManager).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from nurture.store.db import READONLY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    actor: str
    args: tuple[object, ...]


@dataclass
class Jobs:
    """Messages collected during a transaction."""

    pending: list[Job] = field(default_factory=list)

    def enqueue(self, actor: str, *args: object) -> None:
        self.pending.append(Job(actor, args))


Dispatcher = Callable[[Job], None]


def _drop(job: Job) -> None:
    log.debug("no broker configured; dropping job %s%r", job.actor, job.args)


@dataclass
class UnitOfWork:
    session: Session
    jobs: Jobs


class Database:
    """The process's engine plus where committed jobs go."""

    def __init__(self, engine: Engine, dispatcher: Dispatcher = _drop) -> None:
        self.engine = engine
        self.dispatcher = dispatcher

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[UnitOfWork]:
        bind = self.engine.execution_options(**{READONLY: True}) if readonly else self.engine
        jobs = Jobs()
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield UnitOfWork(session, jobs)
                if not readonly:  # a read-only session just closes: loaded rows stay usable
                    session.commit()
            except BaseException:
                session.rollback()
                raise
        for job in jobs.pending:
            self.dispatcher(job)
