"""A sending loop driven by hand: the shipped funnel, a frozen clock, jobs run inline after
commit (the same service calls the actors make), the in-memory provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nurture.core.clock import FrozenClock
from nurture.mail.providers import MemoryProvider
from nurture.runtime import Runtime
from nurture.services import delivery, engagement, sending
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.scheduling import SchedulerOptions, tick
from nurture.services.site_event_input import parse_events
from nurture.services.site_events import RequestMeta, record_site_events
from nurture.services.uow import Database, Job
from nurture.store.models import Enrollment, Lead, Message
from tests.support import shipped_runtime

REPO = Path(__file__).resolve().parents[2]
#: The engagement actors and the service each runs (process_hand_raisers: the fast lane).
ENGAGEMENT = {
    "process_engagement": engagement.process_engagement,
    "process_hand_raisers": engagement.process_engagement,
    "rescore_account_peers": engagement.rescore_account_peers,
}
MONDAY_9AM_CHICAGO = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@dataclass
class Loop:
    runtime: Runtime
    clock: FrozenClock
    provider: MemoryProvider
    retries: list[Job] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids of deliver_notifications
    notification_jobs: list[list[int]] = field(default_factory=list)  # one per job

    @property
    def database(self) -> Database:
        return self.runtime.database

    def run_job(self, job: Job) -> None:
        rt = self.runtime
        if job.actor == "run_steps":
            ids = job.args[0]
            assert isinstance(ids, list)
            sending.run_steps(rt.database, rt.sending(), ids, self.clock.now())
        elif job.actor == "deliver_messages":
            ids = job.args[0]
            assert isinstance(ids, list)
            try:
                delivery.deliver(rt.database, rt.provider, ids, self.clock.now())
            except delivery.RetryLater:
                self.retries.append(job)
        elif job.actor in ENGAGEMENT:
            ids = job.args[0]
            assert isinstance(ids, list)
            with rt.database.unit_of_work() as uow:
                run = ENGAGEMENT[job.actor]
                run(uow.session, uow.jobs, rt.funnels.current, ids, self.clock.now())
        elif job.actor == "deliver_notifications":
            ids = job.args[0]
            assert isinstance(ids, list)
            self.notifications.extend(ids)  # tests deliver them as they need
            self.notification_jobs.append(ids)
        else:
            raise AssertionError(f"unexpected job {job}")

    def add_lead(self, email: str = "jordan@northwind.example", **fields: object) -> int:
        data = {"email": email, "first_name": "Jordan", "time_zone": "America/Chicago", **fields}
        with self.database.unit_of_work() as uow:
            result = upsert_leads(
                uow.session,
                self.runtime.funnels.current,
                [LeadIn.model_validate(data)],
                now=self.clock.now(),
                default_time_zone="UTC",
            )
            return result.leads[0][0].id

    def step(self) -> int:
        """One scheduler tick (jobs run inline); returns how many enrollments were due."""
        return tick(self.database, self.clock, SchedulerOptions())

    def run_until_idle(self, max_days: int = 60) -> None:
        """Tick; when nothing is due, jump the clock to the next due time; stop when no
        live enrollment is left or after ``max_days``."""
        end = self.clock.now() + timedelta(days=max_days)
        while self.clock.now() < end:
            if self.step():
                continue
            upcoming = self.next_due()
            if upcoming is None:
                return
            self.clock.set(max(upcoming, self.clock.now() + timedelta(seconds=1)))

    def next_due(self) -> datetime | None:
        with self.database.unit_of_work(readonly=True) as uow:
            return uow.session.scalar(
                select(func.min(Enrollment.next_run_at)).where(
                    Enrollment.status.in_(("active", "waiting_for_event"))
                )
            )

    def enrollment(self, lead_id: int) -> Enrollment:
        with self.database.unit_of_work(readonly=True) as uow:
            return uow.session.scalars(
                select(Enrollment).where(Enrollment.lead_id == lead_id).order_by(Enrollment.id)
            ).all()[-1]

    def messages(self, lead_id: int) -> list[Message]:
        with self.database.unit_of_work(readonly=True) as uow:
            query = select(Message).where(Message.lead_id == lead_id).order_by(Message.id)
            return list(uow.session.scalars(query))

    def update_lead(self, lead_id: int, **values: object) -> None:
        with self.database.unit_of_work() as uow:
            lead = uow.session.get(Lead, lead_id)
            assert lead is not None
            for name, value in values.items():
                setattr(lead, name, value)


@pytest.fixture
def loop(database: Database, tmp_path: Path) -> Loop:
    clock = FrozenClock(MONDAY_9AM_CHICAGO)
    provider = MemoryProvider()
    harness = Loop(shipped_runtime(database, tmp_path, provider, clock), clock, provider)
    database.dispatcher = harness.run_job
    return harness


@pytest.fixture
def jobs(database: Database) -> list[Job]:
    """The jobs the database's units of work send after commit, kept rather than run."""
    sent: list[Job] = []
    database.dispatcher = sent.append
    return sent


def site(loop: Loop, *raw: dict[str, object]) -> None:
    """POST /v1/events' service: ``raw`` items stored as the website's, at the loop's now."""
    now = loop.clock.now()
    events = parse_events(list(raw), now, max_items=100, public=False)
    with loop.database.unit_of_work() as uow:
        record_site_events(
            uow.session, uow.jobs, loop.runtime.funnels.current, events,
            now=now, source="website", meta=RequestMeta(), default_time_zone="UTC",
        )  # fmt: skip


def lead(loop: Loop, lead_id: int) -> Lead:
    """The lead as stored now."""
    with loop.database.unit_of_work(readonly=True) as uow:
        found = uow.session.get(Lead, lead_id)
        assert found is not None
        return found
