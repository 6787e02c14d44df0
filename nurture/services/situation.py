"""The stored lead as the pure core sees it (step_batch loads the rest of a situation)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.core.lead import LEAD_FIELDS, LeadProfile
from nurture.store.models import Lead

COUNTED_STATUSES = ("queued", "sending", "sent", "unknown")  # what a frequency cap counts


@cache
def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def profile_of(lead: Lead) -> LeadProfile:
    """The stored lead as the pure core sees it."""
    fields = {name: getattr(lead, name) for name in LEAD_FIELDS}
    return LeadProfile(**fields, attributes=dict(lead.attributes or {}))
