"""Steps and deliveries in batches: a chunk of enrollments is one transaction and one
delivery job, yet a provider outage, a poisoned enrollment or a crash costs no more than
it did one message at a time."""

from __future__ import annotations

import email
from email.policy import default as default_policy

import pytest
from sqlalchemy import func, select, text

from nurture.errors import ProviderUnavailable
from nurture.mail.message import OutgoingEmail
from nurture.mail.providers import MemoryProvider
from nurture.services.uow import Job
from nurture.store.models import Message

LEADS = 12


def add_leads(loop, count: int = LEADS) -> list[int]:
    return [loop.add_lead(f"lead{i}@company{i}.example") for i in range(count)]


def all_messages(loop) -> list[Message]:
    with loop.database.unit_of_work(readonly=True) as uow:
        return list(uow.session.scalars(select(Message).order_by(Message.id)))


def test_a_chunk_is_recorded_together_and_delivered_by_one_job(loop):
    add_leads(loop)
    jobs: list[Job] = []

    def dispatch(job: Job) -> None:
        jobs.append(job)
        loop.run_job(job)

    loop.database.dispatcher = dispatch
    loop.step()

    assert [job.actor for job in jobs] == ["run_steps", "deliver_messages"]
    messages = all_messages(loop)
    assert jobs[1].args == ([m.id for m in messages],)
    assert {m.status for m in messages} == {"sent"}
    assert len({m.to_address for m in messages}) == LEADS
    headers = [
        email.message_from_bytes(sent.data, policy=default_policy) for sent in loop.provider.sent
    ]
    assert sorted(int(h["X-Nurture-Message-Id"]) for h in headers) == [m.id for m in messages]
    assert all(h["To"] == m.to_address for h, m in zip(headers, messages, strict=True))


@pytest.mark.parametrize("supports_lookup", [True, False], ids=["lookup", "no lookup"])
def test_a_provider_that_is_down_is_asked_once_per_batch_not_once_per_message(
    loop, supports_lookup
):
    add_leads(loop)
    loop.runtime.provider = loop.provider = WatchingProvider(loop, supports_lookup)
    loop.provider.fail_next(ProviderUnavailable("503 down", retry_after=30))

    loop.step()

    assert loop.provider.attempts == 1
    messages = all_messages(loop)
    assert {m.status for m in messages} == {"queued"}
    assert [m.attempts for m in messages] == [1] + [0] * (LEADS - 1)  # untried: no attempt used
    [retry] = loop.retries

    loop.run_job(retry)

    assert {m.status for m in all_messages(loop)} == {"sent"}
    assert len(loop.provider.sent) == LEADS
    assert loop.provider.attempts == LEADS + 1


def test_an_enrollment_that_cannot_run_does_not_hold_up_the_rest_of_its_chunk(loop, db_url):
    lead_ids = add_leads(loop)
    poisoned = lead_ids[3]
    with loop.database.engine.begin() as conn:  # the database refuses this lead's emails
        if db_url.startswith("sqlite"):
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON messages "
                    f"WHEN NEW.lead_id = {poisoned} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW "
                    f"WHEN (NEW.lead_id = {poisoned}) EXECUTE FUNCTION refuse()"
                )
            )

    with pytest.raises(Exception, match="refused"):
        loop.step()

    sent_to = {m.lead_id for m in all_messages(loop) if m.status == "sent"}
    assert sent_to == set(lead_ids) - {poisoned}
    assert loop.enrollment(poisoned).current_step == "welcome"  # not moved past its email


class WatchingProvider(MemoryProvider):
    """Counts the rows in ``sending`` at each hand-over."""

    def __init__(self, loop, supports_lookup: bool) -> None:
        super().__init__()
        self.loop = loop
        self.supports_lookup = supports_lookup
        self.in_flight: list[int] = []

    def send(self, email: OutgoingEmail) -> str:
        with self.loop.database.unit_of_work(readonly=True) as uow:
            count = uow.session.scalar(select(func.count()).where(Message.status == "sending"))
        self.in_flight.append(count or 0)
        return super().send(email)


@pytest.mark.parametrize(
    ("supports_lookup", "in_doubt"),
    [(False, [1] * LEADS), (True, [LEADS] * LEADS)],
    ids=["without lookup: one at a time", "with lookup: the whole batch"],
)
def test_a_crash_can_leave_in_doubt_only_what_the_reconciler_can_resolve(
    loop, supports_lookup, in_doubt
):
    """Without lookup (plain SMTP) a row left in ``sending`` by a crash becomes ``unknown``
    and is never sent: so only the message being handed over may be in that state, the
    previous answers already recorded. With lookup the reconciler asks the provider about
    each row, so the whole batch may be claimed at once."""
    add_leads(loop)
    provider = WatchingProvider(loop, supports_lookup)
    loop.runtime.provider = provider

    loop.step()

    assert provider.in_flight == in_doubt
    assert {m.status for m in all_messages(loop)} == {"sent"}
    assert len(provider.sent) == LEADS
