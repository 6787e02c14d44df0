"""Which of a lead's events its score counts in its current stage.

Normally all of them. In a side stage the ladder may lift (``promote_from``, e.g.
recycled), with ``fresh_in_side_stages``, only those since the lead entered the stage: sales
sent it back, and the points that made it sales-ready then would otherwise lift it straight
back to them. Still a pure function of (events, model, now) plus the stage the lead is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from nurture.core.scoring_model import ScoredEvent, ScoringModel


def counted_events(
    events: Sequence[ScoredEvent], model: ScoringModel, stage: str, since: datetime | None
) -> Sequence[ScoredEvent]:
    if since is None or not model.fresh_in_side_stages or stage not in model.promote_from:
        return events
    return [event for event in events if event.occurred_at > since]
