"""The backtest's figures: many leads' replays under two models, tallied side by side.

Feed ``Backtest.add`` one ``LeadHistory`` at a time (the caller streams them, so only one
lead's events are in memory at once), then read ``Backtest.report()``. What each figure
means (also in docs/backtest.md):

- ``entered[stage]``: leads the model moved into ``stage`` within the window (once each).
- ``final[stage]``: leads in ``stage`` at the end of the window, in the simulation.
- MQLs: leads the model moved from below the MQL stage to it or above it (a hand-raiser
  straight to SQL counts) within the window; ``days_to_mql`` from each one's creation.
- Won (the ground truth, from sales feedback): leads with a real stage change to the won
  stage at or after the window's start (a sale may close after the window ends). Precision
  = won MQLs / MQLs; recall = won MQLs / won leads. None when there is nothing to divide by.
- Differences: leads whose simulated stage at the end of the window differs by model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from nurture.core.backtest import Contender, LeadHistory, Move, Replay, Window, replay

__all__ = ["Backtest", "BacktestReport", "Difference", "ModelFigures", "percentile"]

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Difference:
    """A lead the two models leave in different stages (``stages`` in contender order)."""

    lead_id: int
    email: str
    stage_now: str
    stages: tuple[str, str]


@dataclass(frozen=True)
class ModelFigures:
    name: str
    source: str
    version: str
    entered: Mapping[str, int]
    final: Mapping[str, int]
    mql_times: tuple[datetime, ...]  # oldest first
    days_to_mql: tuple[float, ...]  # smallest first
    won_mqls: int
    won: int  # the recall denominator: won leads in the population
    accepted_mqls: int = 0  # of its MQLs, leads sales accepted (handoff feedback)

    @property
    def mqls(self) -> int:
        return len(self.mql_times)

    @property
    def median_days_to_mql(self) -> float | None:
        return percentile(self.days_to_mql, 50)

    @property
    def p75_days_to_mql(self) -> float | None:
        return percentile(self.days_to_mql, 75)

    @property
    def precision(self) -> float | None:
        return self.won_mqls / self.mqls if self.mqls and self.won else None

    @property
    def recall(self) -> float | None:
        return self.won_mqls / self.won if self.won else None

    def cumulative_mqls(self, window: Window) -> list[tuple[date, int]]:
        """MQLs so far at the end of each day of the window."""
        out: list[tuple[date, int]] = []
        day, last, index = window.start.date(), window.end.date(), 0
        while day <= last:
            while index < len(self.mql_times) and self.mql_times[index].date() <= day:
                index += 1
            out.append((day, index))
            day += DAY
        return out

    def as_dict(self) -> dict[str, Any]:
        by_day = Counter(at.date().isoformat() for at in self.mql_times)
        return {
            "name": self.name,
            "source": self.source,
            "version": self.version,
            "entered": dict(self.entered),
            "final": dict(self.final),
            "mqls": self.mqls,
            "days_to_mql": {
                "median": _round(self.median_days_to_mql),
                "p75": _round(self.p75_days_to_mql),
            },
            "won_mqls": self.won_mqls,
            "accepted_mqls": self.accepted_mqls,
            "precision": _round(self.precision, 3),
            "recall": _round(self.recall, 3),
            "mqls_by_day": dict(sorted(by_day.items())),
        }


@dataclass(frozen=True)
class BacktestReport:
    window: Window
    stages: tuple[str, ...]
    mql_stage: str
    won_stage: str
    leads: int
    events: int
    won: int
    models: tuple[ModelFigures, ModelFigures]
    differences: tuple[Difference, ...]
    accepted: int = 0  # leads sales accepted in the window (any handoff)

    def as_dict(self) -> dict[str, Any]:
        names = [figures.name for figures in self.models]
        return {
            "window": {"from": self.window.start.isoformat(), "to": self.window.end.isoformat()},
            "stages": list(self.stages),
            "mql_stage": self.mql_stage,
            "won_stage": self.won_stage,
            "ground_truth": f"a real stage change to {self.won_stage!r} (sales feedback: won)",
            "leads": self.leads,
            "events": self.events,
            "won": self.won,
            "accepted": self.accepted,
            "models": {figures.name: figures.as_dict() for figures in self.models},
            "differences": [
                {
                    "lead_id": d.lead_id,
                    "email": d.email,
                    "stage_now": d.stage_now,
                    **dict(zip(names, d.stages, strict=True)),
                }
                for d in self.differences
            ],
        }


@dataclass
class _Tally:
    contender: Contender
    entered: Counter[str] = field(default_factory=Counter)
    final: Counter[str] = field(default_factory=Counter)
    mql_times: list[datetime] = field(default_factory=list)
    days_to_mql: list[float] = field(default_factory=list)
    won_mqls: int = 0
    accepted_mqls: int = 0


class Backtest:
    """Accumulates replays of two contenders over a window; see the module docstring."""

    def __init__(
        self,
        contenders: tuple[Contender, Contender],
        ladder: Sequence[str],
        window: Window,
        *,
        side_stages: Sequence[str] = (),
        mql_stage: str = "mql",
        won_stage: str = "customer",
    ) -> None:
        for role, stage in (("MQL", mql_stage), ("won", won_stage)):
            if stage not in ladder:
                raise ValueError(
                    f"the {role} stage {stage!r} is not on the ladder ({', '.join(ladder)})"
                )
        self.ladder = tuple(ladder)
        self.stages = (*self.ladder, *(s for s in side_stages if s not in self.ladder))
        self.window = window
        self.mql_stage = mql_stage
        self.won_stage = won_stage
        self._mql_rank = self.ladder.index(mql_stage)
        self._tallies = (_Tally(contenders[0]), _Tally(contenders[1]))
        self._leads = self._events = self._won = self._accepted = 0
        self._differences: list[Difference] = []

    def add(self, history: LeadHistory) -> tuple[Replay, Replay]:
        """Replay one lead under both models and count it; returns both replays."""
        end = self.window.end
        replays = tuple(
            replay(history, tally.contender.model, self.ladder, end) for tally in self._tallies
        )
        won = history.won_at is not None and history.won_at >= self.window.start
        accepted = history.accepted_at is not None and history.accepted_at >= self.window.start
        self._leads += 1
        self._events += sum(1 for e in history.events if e.occurred_at <= end)
        self._won += won
        self._accepted += accepted
        for tally, replayed in zip(self._tallies, replays, strict=True):
            self._count(tally, history, replayed, won, accepted)
        first, second = replays
        if first.final_stage != second.final_stage:
            self._differences.append(
                Difference(
                    history.lead_id,
                    history.email,
                    history.stage_now,
                    (first.final_stage, second.final_stage),
                )
            )
        return first, second

    def _count(
        self, tally: _Tally, history: LeadHistory, replayed: Replay, won: bool, accepted: bool
    ) -> None:
        tally.final[replayed.final_stage] += 1
        inside = [move for move in replayed.moves if move.at in self.window]
        for stage in dict.fromkeys(move.to_stage for move in inside):
            tally.entered[stage] += 1
        qualified = next((move for move in inside if self._qualifies(move)), None)
        if qualified is not None:
            tally.mql_times.append(qualified.at)
            tally.days_to_mql.append((qualified.at - history.created_at) / DAY)
            tally.won_mqls += won
            tally.accepted_mqls += accepted

    def _qualifies(self, move: Move) -> bool:
        """From below the MQL stage to it or above it."""
        return self._rank(move.from_stage) < self._mql_rank <= self._rank(move.to_stage)

    def _rank(self, stage: str) -> int:
        return self.ladder.index(stage) if stage in self.ladder else -1

    def report(self) -> BacktestReport:
        figures = tuple(self._figures(tally) for tally in self._tallies)
        return BacktestReport(
            window=self.window,
            stages=self.stages,
            mql_stage=self.mql_stage,
            won_stage=self.won_stage,
            leads=self._leads,
            events=self._events,
            won=self._won,
            accepted=self._accepted,
            models=(figures[0], figures[1]),
            differences=tuple(sorted(self._differences, key=lambda d: d.lead_id)),
        )

    def _figures(self, tally: _Tally) -> ModelFigures:
        contender = tally.contender
        return ModelFigures(
            name=contender.name,
            source=contender.source,
            version=contender.model.version,
            entered={stage: tally.entered[stage] for stage in self._all(tally.entered)},
            final={stage: tally.final[stage] for stage in self._all(tally.final)},
            mql_times=tuple(sorted(tally.mql_times)),
            days_to_mql=tuple(sorted(tally.days_to_mql)),
            won_mqls=tally.won_mqls,
            won=self._won,
            accepted_mqls=tally.accepted_mqls,
        )

    def _all(self, counted: Counter[str]) -> tuple[str, ...]:
        """Every stage of the funnel, then any other stage a lead was found in."""
        return (*self.stages, *sorted(set(counted) - set(self.stages)))


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile of sorted ``values``, interpolating linearly between the two
    nearest ranks (numpy's default); None for no values."""
    if not values:
        return None
    rank = (len(values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
