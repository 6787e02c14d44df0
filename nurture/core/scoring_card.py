"""The result of scoring one lead: fit, engagement, what each rule contributed and the
hand-raisers seen. Frozen and JSON-ready, so a stage change can store it as its reason and
``explain`` and the API can print it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ContributionKind = Literal["fit", "engagement", "pattern", "account"]


@dataclass(frozen=True)
class Contribution:
    """What one rule adds now. ``points`` is after caps and decay, ``raw`` after caps but
    before decay (both to 1 decimal). ``events`` counts the events the rule matched (for a
    pattern, the times it completed); ``last_event_id`` is the newest of them."""

    rule: str
    kind: ContributionKind
    points: float
    raw: float
    events: int = 0
    last_event_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "points": self.points,
            "raw": self.raw,
            "events": self.events,
            "last_event_id": self.last_event_id,
        }


@dataclass(frozen=True)
class HandRaiserHit:
    """A real event that matched hand-raiser ``rule``, which qualifies the lead for
    ``stage``."""

    rule: str
    stage: str
    event_id: int
    occurred_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "stage": self.stage,
            "event_id": self.event_id,
            "occurred_at": self.occurred_at.isoformat(),
        }


def by_size(contribution: Contribution) -> tuple[float, str]:
    """Sort key: largest ``|points|`` first, then by rule name."""
    return (-abs(contribution.points), contribution.rule)


@dataclass(frozen=True)
class ScoreCard:
    fit_points: int
    fit_grade: str
    engagement: float
    fit: tuple[Contribution, ...] = ()
    contributions: tuple[Contribution, ...] = ()
    hand_raisers: tuple[HandRaiserHit, ...] = ()
    last_event_id: int | None = None  # newest real event that scored: the one that tipped it
    machine_ignored: int = 0

    def values(self, since: datetime | None = None) -> dict[str, object]:
        """The names ladder expressions read. ``hand_raiser`` counts only hits after
        ``since`` (when the lead entered its stage), so an old demo request that already
        moved the lead does not move it again after sales sent it back."""
        return {
            "fit": self.fit_grade,
            "fit_points": self.fit_points,
            "engagement": self.engagement,
            "hand_raiser": bool(self.hand_raisers_since(since)),
        }

    def hand_raisers_since(self, since: datetime | None) -> tuple[HandRaiserHit, ...]:
        return tuple(h for h in self.hand_raisers if since is None or h.occurred_at > since)

    def top(self, n: int = 5) -> tuple[Contribution, ...]:
        """The ``n`` largest contributions, fit and engagement alike, for a stage change's
        reason."""
        return tuple(sorted((*self.fit, *self.contributions), key=by_size)[:n])

    def as_dict(self) -> dict[str, object]:
        return {
            "fit_points": self.fit_points,
            "fit_grade": self.fit_grade,
            "engagement": self.engagement,
            "fit": [c.as_dict() for c in self.fit],
            "contributions": [c.as_dict() for c in self.contributions],
            "hand_raisers": [h.as_dict() for h in self.hand_raisers],
            "last_event_id": self.last_event_id,
            "machine_ignored": self.machine_ignored,
        }
