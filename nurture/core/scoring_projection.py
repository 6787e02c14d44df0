"""A score card plus how its engagement will fade if nothing new happens.

With no new events every decaying point shrinks by the same factor, ``0.5 ** (dt /
half_life)``: caps and pattern completions depend only on event times, so they stay put.
So the engagement at a later moment is the card's exact terms times one factor, plus the
account signal (recomputed, as colleagues' activity leaves its window) and the floor. That
makes ``ladder.review_at`` a few multiplications per probe instead of a full rescore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from nurture.core.scoring_card import ScoreCard
from nurture.core.scoring_model import AccountActivity, ScoredEvent, ScoringModel
from nurture.core.scoring_patterns import account_contribution
from nurture.core.scoring_rules import decay_factor


def fold(points: Sequence[float], earned_positive: bool, floor: float) -> tuple[float, float]:
    """The engagement total and the floor's lift. The floor holds up what the lead earned
    (the positive points) as it decays, once it earned anything; negative points still
    count below it."""
    earned = sum(p for p in points if p > 0)
    lift = floor - earned if earned_positive and earned < floor else 0.0
    return sum(points) + lift, lift


def round_points(value: float) -> float:
    """One decimal, and never ``-0.0`` (it would print as a negative score)."""
    return round(value, 1) + 0.0


@dataclass(frozen=True)
class Projection:
    """``card`` is the score at ``now``; ``terms`` are the exact points of each engagement
    rule and pattern at ``now`` with whether they decay; ``earned_positive`` whether those
    ever counted a positive point."""

    card: ScoreCard
    now: datetime
    model: ScoringModel
    terms: tuple[tuple[float, bool], ...]
    earned_positive: bool
    real_events: tuple[ScoredEvent, ...]
    account_activity: tuple[AccountActivity, ...] = ()
    lead_id: int | None = None

    def engagement_at(self, at: datetime) -> float:
        """The engagement at ``at`` (not before ``now``) if no new event arrives."""
        factor = decay_factor(self.model.decay, self.now, at)
        points = [p * factor if decays else p for p, decays in self.terms]
        earned_positive = self.earned_positive
        signal = self.model.account
        if signal is not None:
            account = account_contribution(
                signal, self.real_events, self.account_activity, self.lead_id, self.model.decay, at
            )
            if account is not None:
                points.append(account[1])
                earned_positive = earned_positive or signal.points > 0
        total, _ = fold(points, earned_positive, self.model.decay.floor)
        return round_points(total)

    def card_at(self, at: datetime) -> ScoreCard:
        """The card at ``at`` as far as the ladder reads it (fit, engagement, hand-raisers);
        the contributions stay those of ``now``."""
        return replace(self.card, engagement=self.engagement_at(at))
