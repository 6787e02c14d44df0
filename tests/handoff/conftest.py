"""The context document the handoff service stores on a notification row (the example of
docs/notifications.md), and a helper that writes notification rows directly."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from nurture.store.handoff_models import Notification

CONTEXT: dict[str, Any] = {
    "kind": "handoff",
    "handoff_id": 12,
    "stage": "mql",
    "from_stage": "warm",
    "lead": {
        "id": 42,
        "email": "jordan@northwind.example",
        "name": "Jordan Rivera",
        "title": "Head of Product",
        "company": "Northwind Traders",
        "country": "US",
        "fit_grade": "A",
        "fit_points": 65,
        "engagement": 54.2,
    },
    "account": {"domain": "northwind.example", "name": "Northwind Traders", "engagement": 80.5},
    "reason": {
        "kind": "promotion",
        "rule": "mql: fit in [A, B] and engagement >= 50",
        "top": [
            {
                "rule": "pricing-page",
                "kind": "engagement",
                "points": 20.0,
                "raw": 20.0,
                "events": 2,
                "last_event_id": 7,
            },
            {
                "rule": "webinar",
                "kind": "engagement",
                "points": 15.0,
                "raw": 15.0,
                "events": 1,
                "last_event_id": 5,
            },
        ],
        "fit_rules": [{"rule": "title: head of", "kind": "fit", "points": 30}],
        "event_id": 7,
    },
    "owner": {
        "name": "Priya Shah",
        "email": "priya@lumen-analytics.example",
        "slack_id": "U024BE7LH",
        "team": "sdr",
    },
    "assigned_because": "round robin in team sdr",
    "activities": [
        {
            "type": "page_view",
            "occurred_at": "2026-11-23T15:00:00+00:00",
            "url": "https://lumen.example/pricing",
        },
        {"type": "webinar_attended", "occurred_at": "2026-11-20T17:00:00+00:00"},
    ],
    "links": {
        "accept": "https://nurture.example/h/acc-TOKEN",
        "reject": "https://nurture.example/h/rej-TOKEN",
        "won": "https://nurture.example/h/won-TOKEN",
        "lead": "https://nurture.example/v1/leads/42/score",
    },
}


def handoff_context(**changes: Any) -> dict[str, Any]:
    """A deep copy of CONTEXT with top-level keys replaced."""
    return copy.deepcopy(CONTEXT) | changes


@pytest.fixture
def context() -> dict[str, Any]:
    return handoff_context()


_keys = itertools.count(1)


def insert_notification(
    session: Session,
    channel: str,
    now: datetime,
    *,
    status: str = "pending",
    kind: str = "handoff",
    recipient: str | None = None,
    context: dict[str, Any] | None = None,
    next_attempt_at: datetime | None = None,
    attempts: int = 0,
    last_error: str | None = None,
) -> int:
    """A notification row as the handoff service writes it (no handoff or lead rows: both
    references are optional); returns its id."""
    row = Notification(
        kind=kind,
        channel=channel,
        recipient=recipient,
        context=context if context is not None else handoff_context(),
        idempotency_key=f"handoff-12-{channel}-{next(_keys)}",
        status=status,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        last_error=last_error,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row.id
