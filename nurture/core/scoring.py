"""Scoring: a lead's fit and engagement as a pure function of (profile, events, model, now).

DESIGN invariant 2: the same inputs always give the same card, whatever order the events
come in (they are sorted by ``occurred_at``, then id), which is what makes ``explain`` and
backtests possible. Stored scores are caches of this. Machine events (bots, privacy
proxies) and events after ``now`` never count, so a backtest can score history with the
clock at each event.

- Fit: the points of every fit rule that holds; the grade is the first threshold reached.
- Engagement: every rule an event matches counts (caps and decay in ``scoring_rules``),
  plus behaviour patterns and the account signal (``scoring_patterns``). The decay floor
  holds up the positive points of a lead that ever earned one; negative points still count
  below it, and the lift shows as a ``decay floor`` contribution.
- ``last_event_id``: the newest real event that matched a rule or a hand-raiser or
  completed a pattern, i.e. the event that tipped a promotion.

The card lives in ``scoring_card``; ``project`` also says how engagement fades with no new
events (``scoring_projection``), for ``ladder.review_at``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from nurture.core.conditions import LeadFacts, evaluate
from nurture.core.email_domains import FREE_MAIL_DOMAINS
from nurture.core.lead import LeadProfile
from nurture.core.scoring_card import Contribution, HandRaiserHit, ScoreCard, by_size
from nurture.core.scoring_model import AccountActivity, ScoredEvent, ScoringModel
from nurture.core.scoring_patterns import account_contribution, pattern_contribution
from nurture.core.scoring_projection import Projection, fold, round_points
from nurture.core.scoring_rules import matches, tally

__all__ = [
    "FLOOR_RULE",
    "Contribution",
    "HandRaiserHit",
    "Projection",
    "ScoreCard",
    "fit_facts",
    "project",
    "refit",
    "score",
]

FLOOR_RULE = "decay floor"  # the contribution that lifts a faded lead up to Decay.floor


def fit_facts(profile: LeadProfile, account_attributes: Mapping[str, object]) -> dict[str, object]:
    """What fit rules may test: lead fields and attributes, ``account.<key>`` for each
    account attribute, ``email_domain`` (lower case) and ``free_mail``."""
    facts = profile.facts()
    facts.update({f"account.{key}": value for key, value in account_attributes.items()})
    domain = profile.email.rpartition("@")[2].strip().lower()
    facts["email_domain"] = domain
    facts["free_mail"] = domain in FREE_MAIL_DOMAINS
    return facts


def score(
    profile: LeadProfile,
    events: Sequence[ScoredEvent],
    model: ScoringModel,
    now: datetime,
    *,
    account_attributes: Mapping[str, object] | None = None,
    account_activity: Sequence[AccountActivity] = (),
    lead_id: int | None = None,
) -> ScoreCard:
    """The lead's score card at ``now``. ``account_activity`` is the engagement of the
    other leads of its account (for ``model.account``); ``lead_id`` tells its own apart."""
    return project(
        profile,
        events,
        model,
        now,
        account_attributes=account_attributes,
        account_activity=account_activity,
        lead_id=lead_id,
    ).card


def project(
    profile: LeadProfile,
    events: Sequence[ScoredEvent],
    model: ScoringModel,
    now: datetime,
    *,
    account_attributes: Mapping[str, object] | None = None,
    account_activity: Sequence[AccountActivity] = (),
    lead_id: int | None = None,
) -> Projection:
    """``score`` plus what is needed to tell the engagement at a later moment if nothing
    new happens (``Projection.engagement_at``)."""
    past = sorted((e for e in events if e.occurred_at <= now), key=_chronological)
    real = [e for e in past if not e.machine]
    fit_points, fit = _fit(profile, account_attributes or {}, model)

    contributions: list[Contribution] = []
    terms: list[tuple[float, bool]] = []  # exact points now, and whether they decay
    earned_positive = False
    tipping: list[ScoredEvent] = []
    by_type: dict[str, list[ScoredEvent]] = {}  # a rule only ever matches its own type
    for event in real:
        by_type.setdefault(event.type.casefold(), []).append(event)
    for rule in model.engagement_rules:
        counted = tally(rule, by_type.get(rule.match.type.casefold(), []), model.decay, now)
        if counted is not None:
            contributions.append(counted.contribution())
            terms.append((counted.points, rule.decays))
            earned_positive = earned_positive or counted.earned_positive
            tipping.extend([counted.last] if counted.last is not None else [])
    by_id = {e.id: e for e in real}
    for pattern in model.patterns:
        done = pattern_contribution(pattern, real, model.decay, now)
        if done is not None:
            contributions.append(done[0])
            terms.append((done[1], True))
            earned_positive = earned_positive or pattern.points > 0
            tipping.extend(by_id[i] for i in (done[0].last_event_id,) if i is not None)
    points = [p for p, _ in terms]
    earned_any = earned_positive
    if model.account is not None:
        account = account_contribution(
            model.account, real, account_activity, lead_id, model.decay, now
        )
        if account is not None:
            contributions.append(account[0])
            points.append(account[1])
            earned_any = earned_positive or model.account.points > 0
    total, lift = fold(points, earned_any, model.decay.floor)
    if lift:
        contributions.append(Contribution(FLOOR_RULE, "engagement", round(lift, 1), 0.0))

    raising = {raiser.match.type.casefold() for raiser in model.hand_raisers}
    hits = tuple(
        HandRaiserHit(raiser.name, raiser.stage, event.id, event.occurred_at)
        for event in real
        if event.type.casefold() in raising
        for raiser in model.hand_raisers
        if matches(raiser.match, event)
    )
    tipping.extend(by_id[hit.event_id] for hit in hits)
    last = max(tipping, key=_chronological) if tipping else None
    card = ScoreCard(
        fit_points=fit_points,
        fit_grade=grade(fit_points, model),
        engagement=round_points(total),
        fit=tuple(sorted(fit, key=by_size)),
        contributions=tuple(sorted(contributions, key=by_size)),
        hand_raisers=hits,
        last_event_id=last.id if last is not None else None,
        machine_ignored=len(past) - len(real),
    )
    return Projection(
        card,
        now,
        model,
        tuple(terms),
        earned_positive,
        tuple(real),
        tuple(account_activity),
        lead_id,
    )


def refit(
    projection: Projection,
    profile: LeadProfile,
    account_attributes: Mapping[str, object] | None = None,
) -> Projection:
    """``projection`` as ``project`` gives it for ``profile`` with the same events and
    clock: the profile only feeds fit (a lead that changed stage need not be rescored)."""
    model = projection.model
    fit_points, fit = _fit(profile, account_attributes or {}, model)
    card = replace(
        projection.card,
        fit_points=fit_points,
        fit_grade=grade(fit_points, model),
        fit=tuple(sorted(fit, key=by_size)),
    )
    return replace(projection, card=card)


def grade(fit_points: int, model: ScoringModel) -> str:
    """The first grade (best first) whose threshold the points reach, else the lowest."""
    for name, threshold in model.grades.thresholds:
        if fit_points >= threshold:
            return name
    return model.grades.lowest


def _fit(
    profile: LeadProfile, account_attributes: Mapping[str, object], model: ScoringModel
) -> tuple[int, list[Contribution]]:
    facts = LeadFacts(attributes=fit_facts(profile, account_attributes))
    held = [rule for rule in model.fit_rules if evaluate(rule.when, facts)]
    contributions = [Contribution(r.name, "fit", float(r.points), float(r.points)) for r in held]
    return sum(rule.points for rule in held), contributions


def _chronological(event: ScoredEvent) -> tuple[datetime, int]:
    return (event.occurred_at, event.id)
