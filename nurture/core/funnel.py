"""The pipeline (``nurture.yaml``) as plain data: ladder, sequences per stage, sender,
send window, frequency cap. Loaded and validated by ``nurture.config``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import TYPE_CHECKING

from nurture.core.scoring_model import ScoringModel
from nurture.core.sequence import Sequence

if TYPE_CHECKING:
    from nurture.core.handoff_model import HandoffModel

DEFAULT_LADDER = ("cold", "warm", "mql", "sql", "customer")
DEFAULT_SIDE_STAGES = ("recycled", "disqualified")


@dataclass(frozen=True)
class Sender:
    from_address: str
    from_name: str
    reply_to: str | None
    postal_address: str

    @property
    def from_header(self) -> str:
        return f"{self.from_name} <{self.from_address}>" if self.from_name else self.from_address


@dataclass(frozen=True)
class SendWindow:
    """Days (0 = Monday) and hours [start, end) in the lead's own time zone."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``max_emails`` marketing emails per rolling ``period``, all sequences together."""

    max_emails: int
    period: timedelta


@dataclass(frozen=True)
class Reengagement:
    """Sunset: leads with no real engagement for ``inactive_for`` get ``sequence``."""

    sequence: str
    inactive_for: timedelta


def _no_handoff() -> HandoffModel:
    """An empty handoff model; imported late as handoff_model builds on SendWindow here."""
    from nurture.core.handoff_model import HandoffModel

    return HandoffModel()


@dataclass(frozen=True)
class Funnel:
    ladder: tuple[str, ...]
    side_stages: tuple[str, ...]
    initial_stage: str
    stage_sequences: Mapping[str, str]
    sequences: Mapping[str, Sequence]
    sender: Sender
    send_window: SendWindow
    frequency_cap: FrequencyCap
    reengagement: Reengagement | None = None
    sample_lead: Mapping[str, object] = field(default_factory=dict)
    scoring: ScoringModel = field(default_factory=ScoringModel)  # empty: the funnel never scores
    handoff: HandoffModel = field(default_factory=_no_handoff)  # empty: no handoffs
    version: str = ""  # content hash of every file the funnel was loaded from

    @property
    def stages(self) -> tuple[str, ...]:
        return self.ladder + self.side_stages

    def sequence_for_stage(self, stage: str) -> Sequence | None:
        sequence_id = self.stage_sequences.get(stage)
        return self.sequences[sequence_id] if sequence_id else None
