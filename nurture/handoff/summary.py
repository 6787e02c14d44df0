"""What every channel says, read once from a notification's context document: the title,
the facts about the lead, why now, the last activities and the links. The channel modules
only lay these out (Block Kit, Adaptive Card, email, JSON); all of it is pure.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nurture.handoff.base import NotificationContext

LINK_LABELS = (("accept", "Accept"), ("reject", "Reject"), ("won", "Won"), ("lead", "Open lead"))
MAX_REASONS = 5
MAX_ACTIVITIES = 5


@dataclass(frozen=True)
class Summary:
    kind: str  # handoff | reminder | reassigned
    title: str  # "New MQL: Jordan Rivera (Northwind Traders)"
    intro: str  # who owns it and why; the owner by name
    facts: tuple[tuple[str, str], ...]  # ("Who", "Jordan Rivera <jordan@…>"), ...
    reasons: tuple[str, ...]  # "mql: fit in [A, B] and engagement >= 50", "pricing-page +20"
    activities: tuple[str, ...]  # "2026-11-23 15:00 UTC  page_view  https://…/pricing"
    links: tuple[tuple[str, str], ...]  # ("Accept", url), ...
    owner_name: str | None
    owner_slack_id: str | None

    @property
    def text(self) -> str:
        """The whole message as plain text (email text part, chat fallbacks)."""
        lines = [self.title, "", self.intro, ""]
        lines += [f"{label}: {value}" for label, value in self.facts]
        if self.reasons:
            lines += ["", "Why now:", *(f"- {reason}" for reason in self.reasons)]
        if self.activities:
            lines += ["", "Last activity:", *(f"- {line}" for line in self.activities)]
        if self.links:
            lines += ["", *(f"{label}: {url}" for label, url in self.links)]
        return "\n".join(lines) + "\n"


def summarize(context: NotificationContext) -> Summary:
    lead = _dict(context.get("lead"))
    owner = _dict(context.get("owner"))
    kind = str(context.get("kind") or "handoff")
    who = _str(lead.get("name")) or _str(lead.get("email")) or f"lead {lead.get('id', '?')}"
    company = _str(lead.get("company")) or _str(_dict(context.get("account")).get("name"))
    return Summary(
        kind=kind,
        title=_title(kind, str(context.get("stage") or "").upper(), who, company),
        intro=_intro(kind, owner, _str(context.get("assigned_because"))),
        facts=_facts(context, lead, owner, who, company),
        reasons=_reasons(_dict(context.get("reason"))),
        activities=tuple(_activity(a) for a in _list(context.get("activities"))[:MAX_ACTIVITIES]),
        links=tuple(
            (label, url)
            for key, label in LINK_LABELS
            if (url := _str(_dict(context.get("links")).get(key)))
        ),
        owner_name=_str(owner.get("name")),
        owner_slack_id=_str(owner.get("slack_id")),
    )


def _title(kind: str, stage: str, who: str, company: str | None) -> str:
    at = f" ({company})" if company else ""
    if kind == "reminder":
        return f"Reminder: {who}{at} is waiting for an answer"
    if kind == "reassigned":
        return f"Reassigned {stage}: {who}{at}"
    return f"New {stage}: {who}{at}"


def _intro(kind: str, owner: dict[str, Any], because: str | None) -> str:
    name = _str(owner.get("name"))
    if name is None:
        return "Nobody could be assigned: pick this lead up from the team."
    why = f" ({because})" if because else ""
    if kind == "reminder":
        return f"{name}, this lead has had no answer yet: accept or reject it."
    if kind == "reassigned":
        return f"No answer in time: the lead now belongs to {name}{why}."
    return f"Assigned to {name}{why}."


def _facts(
    context: NotificationContext,
    lead: dict[str, Any],
    owner: dict[str, Any],
    who: str,
    company: str | None,
) -> tuple[tuple[str, str], ...]:
    email = _str(lead.get("email"))
    from_stage, stage = _str(context.get("from_stage")), _str(context.get("stage"))
    grade, points = _str(lead.get("fit_grade")), lead.get("fit_points")
    account = _dict(context.get("account"))
    rows = [
        ("Who", f"{who} <{email}>" if email and email != who else who),
        ("Company", company),
        ("Title", _str(lead.get("title"))),
        ("Country", _str(lead.get("country"))),
        ("Stage", f"{from_stage} → {stage}" if from_stage and stage else stage),
        ("Fit grade", f"{grade} ({_num(points)} points)" if grade and _num(points) else grade),
        ("Engagement", _num(lead.get("engagement"))),
        ("Account engagement", _num(account.get("engagement"))),
        ("Owner", _str(owner.get("name"))),
    ]
    return tuple((label, value) for label, value in rows if value)


def _reasons(reason: dict[str, Any]) -> tuple[str, ...]:
    lines = [rule] if (rule := _str(reason.get("rule"))) else []
    for top in _list(reason.get("top"))[:MAX_REASONS]:
        item = _dict(top)
        events = item.get("events")
        count = f" ({events} events)" if isinstance(events, int) and events > 1 else ""
        lines.append(f"{item.get('rule', '?')}: {_signed(item.get('points'))} points{count}")
    return tuple(lines)


def _activity(value: object) -> str:
    item = _dict(value)
    when = _str(item.get("occurred_at")) or ""
    with suppress(ValueError):
        when = datetime.fromisoformat(when).strftime("%Y-%m-%d %H:%M UTC")
    what = _str(item.get("type")) or "event"
    where = _str(item.get("url")) or _str(item.get("name")) or ""
    return "  ".join(part for part in (when, what, where) if part)


def _signed(value: object) -> str:
    if isinstance(value, int | float):
        return f"{value:+g}"
    return "?"


def _num(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:g}"


def _str(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
