"""``handoff.reps``: the salespeople who receive leads, each with team, weight, working hours
in their own zone and a daily cap. Names and emails are unique: a name is how the CLI, the
API and ``accounts.owner`` refer to a rep."""

from __future__ import annotations

import re
from datetime import time

from nurture.config.nodes import Node, fields, integer, text
from nurture.config.values import DAYS, day, email_address, hours, time_zone
from nurture.core.funnel import SendWindow
from nurture.core.handoff_model import Rep
from nurture.core.windows import END_OF_DAY

REP_KEYS = ("slack", "weight", "time_zone", "days", "hours", "daily_cap")
REP_HINT = (
    "a rep such as {name: Priya Shah, email: priya@example.com, team: sdr, "
    'time_zone: America/New_York, hours: "09:00-17:30"}'
)
SLACK_HINT = "a Slack member id such as U024BE7LH (profile, More, Copy member ID)"
WEEKDAYS = frozenset(range(5))
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def parse_reps(node: Node) -> tuple[Rep, ...] | None:
    """Every rep, or None when any has a problem (each reported at its place)."""
    if not isinstance(node.value, list):
        node.expected("a list of reps, each " + REP_HINT)
        return None
    before = len(node.problems)
    reps: list[Rep] = []
    names: dict[str, int] = {}
    emails: dict[str, int] = {}
    for item in node.items():
        rep = _rep(item)
        if rep is None:
            continue
        _once(item.child("name"), rep.name, names, "a name of its own")
        _once(item.child("email"), rep.email.casefold(), emails, "an email of its own")
        reps.append(rep)
    return tuple(reps) if len(node.problems) == before else None


def _once(node: Node, key: str, seen: dict[str, int], what: str) -> None:
    if key in seen:
        node.expected(f"{what} (also used by the rep at line {seen[key]})")
    seen.setdefault(key, node.line())


def _rep(node: Node) -> Rep | None:
    parts = fields(node, ["name", "email", "team"], REP_KEYS, what=REP_HINT)
    if parts is None or not {"name", "email", "team"} <= set(parts):
        return None
    before = len(node.problems)
    name = text(parts["name"], "the rep's name, such as Priya Shah")
    email = email_address(parts["email"])
    team = text(parts["team"], "a team name such as sdr or ae-emea")
    slack = _slack(parts["slack"]) if "slack" in parts else None
    weight: int | None = 1
    if "weight" in parts:
        weight = integer(parts["weight"], 1, "a whole number of at least 1 (their share of leads)")
    zone = time_zone(parts["time_zone"]) if "time_zone" in parts else "UTC"
    window = _working_hours(parts.get("days"), parts.get("hours"))
    cap = None
    if "daily_cap" in parts and parts["daily_cap"].value is not None:
        cap = integer(parts["daily_cap"], 1, "a whole number of leads a day, at least 1")
    if len(node.problems) != before or name is None or email is None or team is None:
        return None
    return Rep(
        name=name.strip(),
        email=email,
        team=team.strip(),
        slack_id=slack,
        weight=weight or 1,
        time_zone=zone or "UTC",
        hours=window,
        daily_cap=cap,
    )


def _slack(node: Node) -> str | None:
    if node.value is None:
        return None
    if isinstance(node.value, str) and _SLACK_ID.match(node.value.strip()):
        return node.value.strip()
    node.expected(SLACK_HINT)
    return None


def _working_hours(days_node: Node | None, hours_node: Node | None) -> SendWindow | None:
    """``days`` and ``hours`` as for send_window; hours alone work Monday to Friday, days
    alone the whole of each day; neither: always at work."""
    if days_node is None and hours_node is None:
        return None
    span = hours(hours_node) if hours_node is not None else (time(0), END_OF_DAY)
    days: set[int] | None = set(WEEKDAYS)
    if days_node is not None:
        days = _days(days_node)
    if span is None or days is None:
        return None
    return SendWindow(frozenset(days), span[0], span[1])


def _days(node: Node) -> set[int] | None:
    if not isinstance(node.value, list) or not node.value:
        node.expected("a list of days such as [" + ", ".join(DAYS[:5]) + "]")
        return None
    found = [day(item) for item in node.items()]
    return {d for d in found if d is not None} if None not in found else None
