"""The scoring model as plain data: fit rules, engagement rules with caps and decay,
behaviour patterns, account signals, hand-raisers and the ladder.

Parsed from the ``scoring`` section of ``nurture.yaml`` by ``nurture.config.scoring``,
evaluated by ``nurture.core.scoring`` (the score card) and ``nurture.core.ladder`` (which
stage the card earns). Everything here is immutable so a model can be shared by threads and
compared in a backtest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from nurture.core.conditions import Condition
from nurture.core.ladder_expr import Expr


@dataclass(frozen=True)
class FitRule:
    """``points`` when ``when`` holds for the lead's fit facts (``nurture.core.scoring``
    names them: lead fields, custom attributes, ``account.<attr>``, ``email_domain``,
    ``free_mail``)."""

    name: str
    when: Condition
    points: int


@dataclass(frozen=True)
class Grades:
    """Fit points needed per grade, best first; below the last threshold: ``lowest``."""

    thresholds: tuple[tuple[str, int], ...] = (("A", 60), ("B", 40), ("C", 20))
    lowest: str = "D"

    @property
    def names(self) -> tuple[str, ...]:
        return (*(name for name, _ in self.thresholds), self.lowest)


@dataclass(frozen=True)
class EventFilter:
    """Which stored events a rule counts. ``url`` is a glob matched against the event URL
    (``*/pricing*``); ``step`` the sequence step whose email was opened or clicked; ``data``
    keys must equal the event's data values (``{form: contact-sales}``)."""

    type: str
    url: str | None = None
    step: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Cap:
    """At most ``points`` from one rule within any rolling ``per``."""

    points: float
    per: timedelta


@dataclass(frozen=True)
class EngagementRule:
    name: str
    match: EventFilter
    points: float
    cap: Cap | None = None
    decays: bool = True


class PatternKind(StrEnum):
    REPEAT_VISITS = "repeat_visits"  # >= count matching events within `within`
    SESSIONS = "sessions"  # >= count separate visits (30 min apart) within `within`
    COMEBACK = "comeback"  # a real event after `quiet_for` with none


@dataclass(frozen=True)
class Pattern:
    """A behaviour worth more than its events: points each time the pattern completes."""

    name: str
    kind: PatternKind
    points: float
    count: int = 0
    within: timedelta | None = None
    quiet_for: timedelta | None = None
    match: EventFilter | None = None  # None: any real engagement event


@dataclass(frozen=True)
class Decay:
    """Engagement points halve every ``half_life`` (None: no decay). A lead that ever had
    positive engagement keeps at least ``floor``, so inactive differs from never active."""

    half_life: timedelta | None = None
    floor: float = 0.0


@dataclass(frozen=True)
class AccountSignal:
    """When at least ``min_contacts`` leads of one account engaged within ``window``, each of
    them gets ``points`` (decaying like engagement)."""

    min_contacts: int
    window: timedelta
    points: float


@dataclass(frozen=True)
class HandRaiser:
    """An event that qualifies on its own: the lead goes to ``stage`` whatever its score."""

    name: str
    match: EventFilter
    stage: str


@dataclass(frozen=True)
class LadderRule:
    """The lead belongs in ``stage`` (or higher) when ``expression`` holds."""

    stage: str
    expression: Expr
    source: str  # the expression as written in YAML, for reasons and explain


@dataclass(frozen=True)
class FallBack:
    """Hysteresis: a lead in ``stage`` drops to ``to`` when ``expression`` holds."""

    stage: str
    to: str
    expression: Expr
    source: str


@dataclass(frozen=True)
class ScoringModel:
    fit_rules: tuple[FitRule, ...] = ()
    grades: Grades = field(default_factory=Grades)
    engagement_rules: tuple[EngagementRule, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    decay: Decay = field(default_factory=Decay)
    account: AccountSignal | None = None
    hand_raisers: tuple[HandRaiser, ...] = ()
    ladder: tuple[LadderRule, ...] = ()  # in ladder order, lowest stage first
    fall_back: tuple[FallBack, ...] = ()
    promote_from: frozenset[str] = frozenset({"recycled"})  # side stages the ladder may lift
    # In those stages, count only engagement since the lead entered the stage (a recycled
    # lead earns its way back; its old points would lift it straight back to sales).
    fresh_in_side_stages: bool = True
    version: str = ""  # content hash of the files it came from

    @property
    def empty(self) -> bool:
        """No rules at all: the funnel does not score (stages move by API and sales only)."""
        return not (self.fit_rules or self.engagement_rules or self.hand_raisers or self.ladder)


@dataclass(frozen=True)
class ScoredEvent:
    """A stored event as scoring sees it. ``step`` is the step of the email it refers to;
    ``machine`` events (bots, privacy proxies) never score."""

    id: int
    type: str
    occurred_at: datetime
    url: str | None = None
    step: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)
    machine: bool = False


@dataclass(frozen=True)
class AccountActivity:
    """Another lead of the same account engaged (real events only) at ``occurred_at``."""

    lead_id: int
    occurred_at: datetime
