"""Reading what bench/handoff_latency.py recorded: the stand-in's stamps, the workers' probe
lines, and each handoff's latency split into its hops."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import psycopg

# The lead's job: process_hand_raisers (the fast lane, queue handoffs) for a demo request,
# or process_engagement when a colleague's rescore took the lead first.
LEAD_JOBS = frozenset({"process_engagement", "process_hand_raisers"})
DELIVERY_JOBS = frozenset({"deliver_notification", "deliver_notifications"})  # one id, a list
HOPS = (
    ("api", "event POST -> the lead's job enqueued (API stores, commits, enqueues)"),
    ("lead job wait", "process_hand_raisers waiting in Redis and the worker"),
    ("lead job run", "process_hand_raisers start -> deliver_notifications enqueued"),
    ("notification wait", "deliver_notifications waiting in Redis and the worker"),
    ("delivery", "deliver_notifications start -> Slack stand-in receipt (its batch's rows)"),
)


@dataclass(frozen=True)
class Probe:
    actor: str
    enqueued: float
    start: float
    end: float
    args: list[object]
    ok: bool  # False: the actor raised (Dramatiq retries it later, e.g. a deadlock victim)


def arrivals(stamps: Path, path: str = "/slack") -> dict[str, float]:
    """First receipt time per hand-raiser email of the requests to ``path``."""
    first: dict[str, float] = {}
    if not stamps.exists():
        return first
    for line in stamps.read_text().splitlines():
        at, where, emails = line.split(" ", 2)
        if where != path or emails == "-":
            continue
        for email in emails.split(","):
            first[email] = min(first.get(email, float("inf")), float(at))
    return first


def read_probes(folder: Path) -> list[Probe]:
    found = []
    for path in sorted(folder.glob("probe-*.jsonl")):
        for line in path.read_text().splitlines():
            found.append(Probe(*json.loads(line)))
    return found


def slack_notifications(conninfo: str) -> dict[int, int]:
    """Lead id -> id of its Slack handoff notification."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT lead_id, min(id) FROM notifications "
            "WHERE channel = 'slack' AND kind = 'handoff' GROUP BY lead_id"
        ).fetchall()
    return {int(lead): int(row) for lead, row in rows}


def split(
    sent_at: dict[str, float],
    arrived: dict[str, float],
    lead_ids: dict[str, int],
    probes: list[Probe],
    notification_of: dict[int, int],
) -> dict[str, list[float]]:
    """Seconds spent in each hop, per handoff that arrived and could be traced."""
    jobs_of: dict[int, list[Probe]] = {}
    for probe in probes:
        if probe.actor in LEAD_JOBS:
            for lead in probe.args[0]:  # type: ignore[attr-defined]
                jobs_of.setdefault(int(lead), []).append(probe)
    delivery: dict[int, Probe] = {}
    for p in probes:
        if p.actor in DELIVERY_JOBS:
            ids = p.args[0] if isinstance(p.args[0], list) else [p.args[0]]
            delivery |= {int(i): p for i in ids}
    hops: dict[str, list[float]] = {name: [] for name, _ in HOPS}
    for email, sent in sent_at.items():
        lead = lead_ids.get(email)
        if email not in arrived or lead is None:
            continue
        note = delivery.get(notification_of.get(lead, -1))
        if note is None:
            continue
        # The job that handed the lead off: the latest to start before the notification was
        # enqueued (a colleague's rescore may have taken the lead before its own job did).
        started = [j for j in jobs_of.get(lead, []) if sent - 0.01 <= j.start <= note.enqueued]
        if not started:
            continue
        job = max(started, key=lambda j: j.start)
        values = (
            job.enqueued - sent,
            job.start - job.enqueued,
            note.enqueued - job.start,
            note.start - note.enqueued,
            arrived[email] - note.start,
        )
        for (name, _), value in zip(HOPS, values, strict=True):
            hops[name].append(value)
    return hops


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    """Milliseconds; a missing one (infinite) as "missing"."""
    return "missing" if seconds == float("inf") else f"{seconds * 1000:.0f} ms"
