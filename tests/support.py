"""Factories shared by tests: a small funnel built from core types, runtimes, clients."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from nurture.config import load_funnel
from nurture.core.clock import FrozenClock
from nurture.core.funnel import FrequencyCap, Funnel, Sender, SendWindow
from nurture.core.sequence import Exit, Send, Sequence, Step, WaitFor
from nurture.mail.providers import MemoryProvider, Provider
from nurture.runtime import FunnelHolder, Runtime
from nurture.services.uow import Database
from nurture.settings import Settings

REPO = Path(__file__).resolve().parents[1]
API_KEY = "test-key-0123456789"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def small_funnel(version: str = "v-test") -> Funnel:
    def sequence(sequence_id: str, stage: str) -> Sequence:
        return Sequence(
            id=sequence_id,
            stages=(stage,),
            steps=(
                Step("hello", Send(template="hello.html", subject="Hello")),
                Step("pause", WaitFor(duration=timedelta(days=2))),
                Step("done", Exit()),
            ),
        )

    sequences = {s.id: s for s in (sequence("cold-seq", "cold"), sequence("warm-seq", "warm"))}
    return Funnel(
        ladder=("cold", "warm", "mql", "sql", "customer"),
        side_stages=("recycled", "disqualified"),
        initial_stage="cold",
        stage_sequences={"cold": "cold-seq", "warm": "warm-seq"},
        sequences=sequences,
        sender=Sender("maya@lumen.example", "Maya", None, "548 Market St, San Francisco"),
        send_window=SendWindow(frozenset(range(5)), time(9), time(17)),
        frequency_cap=FrequencyCap(3, timedelta(days=7)),
        version=version,
    )


def make_runtime(database: Database, funnel: Funnel | None = None, **settings: object) -> Runtime:
    values: dict[str, object] = {"api_keys": API_KEY, "secret_key": "s" * 32, **settings}
    return Runtime(
        settings=Settings(**values),  # type: ignore[arg-type]
        database=database,
        funnels=FunnelHolder(Path(), funnel or small_funnel()),
        provider=MemoryProvider(),
        clock=FrozenClock(START),
    )


def shipped_runtime(
    database: Database, var_dir: Path, provider: Provider, clock: FrozenClock
) -> Runtime:
    """A runtime over the shipped example funnel (the one the demo uses)."""
    return Runtime(
        settings=Settings(api_keys=API_KEY, secret_key="s" * 32, var_dir=var_dir),
        database=database,
        funnels=FunnelHolder(REPO, load_funnel(REPO)),
        provider=provider,
        clock=clock,
    )
