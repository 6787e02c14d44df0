"""Handoff figures: how sales answer the leads handed to them, and how fast.

Pure aggregation: plain records in (one per handoff, with its answers), one report out.
Definitions (docs/handoff-report.md explains each for readers):

- *answered*: the handoff has at least one answer; *accepted*: one of its answers is
  ``accepted`` or ``won`` (accepted, then won, counts once); *acceptance rate* = accepted /
  answered. *Open*: no answer yet and not superseded (the lead moved on unanswered).
- *time to accept*: ``assigned_at`` to the first accepted (or won) answer.
- *speed to lead*: ``assigned_at`` to the first answer of any kind, the rep's first action.
  The share answered within a limit counts only handoffs whose fate at that limit is known:
  answered by then, or answered later, or still open and older than the limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from nurture.core.backtest import Window
from nurture.core.handoff_timing import Durations, SpeedToLead, durations

__all__ = [
    "ACCEPTED",
    "Answer",
    "HandoffRecord",
    "HandoffReport",
    "ReasonCount",
    "Tally",
    "handoff_report",
]

ACCEPTED = frozenset({"accepted", "won"})
NO_RULE, NO_SOURCE, NOBODY, NO_REASON = "(no rule)", "(no source)", "(unassigned)", "(none)"


@dataclass(frozen=True)
class Answer:
    outcome: str  # accepted | rejected | won | lost
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class HandoffRecord:
    """One handoff as the report needs it; ``answers`` in any order."""

    id: int
    stage: str
    status: str  # open | accepted | rejected | won | lost | superseded
    assigned_at: datetime
    rule: str | None = None  # the stage change's rule
    source: str | None = None  # the lead's source
    owner: str | None = None  # the rep who holds it now
    answers: tuple[Answer, ...] = ()
    remind_at: datetime | None = None
    reassign_at: datetime | None = None
    reminded_at: datetime | None = None
    reassignments: int = 0

    def first(self, outcomes: frozenset[str] | None = None) -> Answer | None:
        chosen = [a for a in self.answers if outcomes is None or a.outcome in outcomes]
        return min(chosen, key=lambda a: a.at, default=None)

    def has(self, outcomes: frozenset[str]) -> bool:
        return any(a.outcome in outcomes for a in self.answers)

    @property
    def is_open(self) -> bool:
        return not self.answers and self.status != "superseded"

    def past_sla(self, now: datetime) -> bool:
        """Open and past its reminder or reassignment time (a reminded one stays past)."""
        due = [t for t in (self.remind_at, self.reassign_at) if t is not None]
        return self.is_open and (self.reminded_at is not None or any(t <= now for t in due))


@dataclass(frozen=True)
class Tally:
    key: str
    handed_off: int = 0
    answered: int = 0
    accepted: int = 0
    rejected: int = 0
    won: int = 0
    lost: int = 0
    open: int = 0
    superseded: int = 0

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.answered if self.answered else None

    def as_dict(self) -> dict[str, Any]:
        rate = self.acceptance_rate
        return asdict(self) | {"acceptance_rate": None if rate is None else round(rate, 4)}


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int
    share: float  # of all rejections


@dataclass(frozen=True)
class HandoffReport:
    window: Window
    now: datetime
    total: Tally
    by_stage: tuple[Tally, ...]
    by_rule: tuple[Tally, ...]
    by_source: tuple[Tally, ...]
    by_rep: tuple[Tally, ...]
    reject_reasons: tuple[ReasonCount, ...]
    time_to_accept: Durations
    time_to_accept_by_stage: dict[str, Durations]
    speed_to_lead: SpeedToLead
    past_sla: int  # open handoffs past their reminder or reassignment time
    reassigned: int  # handoffs given to another rep at least once
    reassignments: int  # all reassignments

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": {"from": self.window.start.isoformat(), "to": self.window.end.isoformat()},
            "now": self.now.isoformat(),
            "total": self.total.as_dict(),
            "by_stage": [t.as_dict() for t in self.by_stage],
            "by_rule": [t.as_dict() for t in self.by_rule],
            "by_source": [t.as_dict() for t in self.by_source],
            "by_rep": [t.as_dict() for t in self.by_rep],
            "reject_reasons": [
                {"reason": r.reason, "count": r.count, "share": round(r.share, 4)}
                for r in self.reject_reasons
            ],
            "time_to_accept": {
                **self.time_to_accept.as_dict(),
                "by_stage": {s: d.as_dict() for s, d in self.time_to_accept_by_stage.items()},
            },
            "speed_to_lead": self.speed_to_lead.as_dict(),
            "sla": {
                "open_past_sla": self.past_sla,
                "reassigned_handoffs": self.reassigned,
                "reassignments": self.reassignments,
            },
        }


def handoff_report(
    records: Iterable[HandoffRecord], window: Window, now: datetime
) -> HandoffReport:
    """The figures for the handoffs assigned inside ``window``, as of ``now``."""
    handoffs = [h for h in records if window.start <= h.assigned_at <= window.end]
    stages = sorted({h.stage for h in handoffs})
    return HandoffReport(
        window=window,
        now=now,
        total=_tally("all", handoffs),
        by_stage=_grouped(handoffs, lambda h: h.stage),
        by_rule=_grouped(handoffs, lambda h: h.rule or NO_RULE),
        by_source=_grouped(handoffs, lambda h: h.source or NO_SOURCE),
        by_rep=_grouped(handoffs, lambda h: h.owner or NOBODY),
        reject_reasons=_reasons(handoffs),
        time_to_accept=_time_to_accept(handoffs),
        time_to_accept_by_stage={
            s: _time_to_accept([h for h in handoffs if h.stage == s]) for s in stages
        },
        speed_to_lead=_speed_to_lead(handoffs, now),
        past_sla=sum(h.past_sla(now) for h in handoffs),
        reassigned=sum(h.reassignments > 0 for h in handoffs),
        reassignments=sum(h.reassignments for h in handoffs),
    )


def _tally(key: str, handoffs: Sequence[HandoffRecord]) -> Tally:
    return Tally(
        key=key,
        handed_off=len(handoffs),
        answered=sum(bool(h.answers) for h in handoffs),
        accepted=sum(h.has(ACCEPTED) for h in handoffs),
        rejected=sum(h.has(frozenset({"rejected"})) for h in handoffs),
        won=sum(h.has(frozenset({"won"})) for h in handoffs),
        lost=sum(h.has(frozenset({"lost"})) for h in handoffs),
        open=sum(h.is_open for h in handoffs),
        superseded=sum(not h.answers and h.status == "superseded" for h in handoffs),
    )


def _grouped(
    handoffs: Sequence[HandoffRecord], key: Callable[[HandoffRecord], str]
) -> tuple[Tally, ...]:
    """One tally per key, most handed off first (then by name)."""
    groups: dict[str, list[HandoffRecord]] = {}
    for h in handoffs:
        groups.setdefault(key(h), []).append(h)
    tallies = [_tally(k, members) for k, members in groups.items()]
    return tuple(sorted(tallies, key=lambda t: (-t.handed_off, t.key)))


def _reasons(handoffs: Sequence[HandoffRecord]) -> tuple[ReasonCount, ...]:
    """Each rejection's reason (a handoff is rejected once: its rejecting answer)."""
    counted = Counter(
        a.reason or NO_REASON for h in handoffs for a in h.answers if a.outcome == "rejected"
    )
    total = sum(counted.values())
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ReasonCount(reason, n, n / total) for reason, n in ordered)


def _time_to_accept(handoffs: Sequence[HandoffRecord]) -> Durations:
    delays = []
    for h in handoffs:
        accepted = h.first(ACCEPTED)
        if accepted is not None:
            delays.append(accepted.at - h.assigned_at)
    return durations(delays)


def _speed_to_lead(handoffs: Sequence[HandoffRecord], now: datetime) -> SpeedToLead:
    delays: list[timedelta] = []
    waiting: list[timedelta] = []  # ages of the open handoffs
    for h in handoffs:
        first = h.first()
        if first is not None:
            delays.append(first.at - h.assigned_at)
        elif h.is_open:
            waiting.append(now - h.assigned_at)
    return SpeedToLead.of(delays, waiting)
