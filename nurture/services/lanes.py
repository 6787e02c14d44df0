"""Which queue new engagement goes to: a lead with a new hand-raiser event (a demo request,
the contact-sales form, or whatever ``scoring.hand_raisers`` names) takes the fast lane,
``process_hand_raisers`` on queue ``handoffs``, served apart from the engagement backlog;
every other lead goes to ``process_engagement``. Both run the same work: the lane decides
only how soon (docs/operations-latency.md). Used by the website's and the providers' paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from nurture.core.scoring_model import HandRaiser, ScoredEvent
from nurture.core.scoring_rules import matches
from nurture.services.uow import Jobs

ENGAGEMENT_ACTOR = "process_engagement"
HAND_RAISER_ACTOR = "process_hand_raisers"  # the fast lane: queue ``handoffs``


def enqueue_by_lane(
    jobs: Jobs,
    raisers: tuple[HandRaiser, ...],
    rows: Sequence[dict[str, Any]],
    lead_ids: Sequence[int],
    chunk: int,
) -> None:
    """Enqueue ``lead_ids`` (sorted) in jobs of at most ``chunk``, hand-raisers apart."""
    raised = hand_raising_leads(raisers, rows)
    for actor, ids in (
        (HAND_RAISER_ACTOR, [i for i in lead_ids if i in raised]),
        (ENGAGEMENT_ACTOR, [i for i in lead_ids if i not in raised]),
    ):
        for start in range(0, len(ids), chunk):
            jobs.enqueue(actor, ids[start : start + chunk])


def hand_raising_leads(raisers: tuple[HandRaiser, ...], rows: Sequence[dict[str, Any]]) -> set[int]:
    """Leads of ``rows`` (new event rows) with a real event some hand-raiser rule matches,
    by the rule's own matcher on the row as scoring will read it. A row's email step is not
    known here, so a rule's ``step`` is not checked: a wider net only routes a lead to the
    fast lane, where scoring decides as it always does."""
    if not raisers:
        return set()
    filters = [replace(raiser.match, step=None) for raiser in raisers]
    return {
        row["lead_id"]
        for row in rows
        if row["lead_id"] is not None
        and not row["machine"]
        and any(matches(match, _scored(row)) for match in filters)
    }


def _scored(row: dict[str, Any]) -> ScoredEvent:
    """A new row as ``scoring_inputs.read_events`` gives it to scoring (no id yet, no step)."""
    return ScoredEvent(0, row["type"], row["occurred_at"], row["url"], None, row["data"] or {})
