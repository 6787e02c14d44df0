"""The one broker of this process, chosen by settings."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from nurture.services.uow import Job
from nurture.settings import Settings, load_settings


def make_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        return RedisBroker(url=settings.redis_url)  # type: ignore[no-untyped-call]
    return StubBroker()


broker: dramatiq.Broker = make_broker(load_settings())
dramatiq.set_broker(broker)


def dispatch(job: Job) -> None:
    """Send a job collected by a unit of work, after its transaction committed."""
    broker.get_actor(job.actor).send(*job.args)
