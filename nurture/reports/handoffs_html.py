"""The handoff report as one self-contained HTML page: acceptance by stage, rule, source
and rep, reject reasons, time to accept, speed to lead and SLA figures, with inline SVG
bar charts (acceptance rate by rep, reject reasons, the speed-to-lead distribution). Every
value is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from nurture.core.handoff_stats import HandoffReport, Tally
from nurture.core.handoff_timing import Durations
from nurture.reports.page import page
from nurture.reports.svg import Series, bar_chart, hbar_chart

__all__ = ["duration", "percent", "render_handoffs_html"]

BLUE, GREY, RED = "#2f6fde", "#8a99a8", "#c8553d"
COLUMNS = ("handed off", "answered", "accepted", "rejected", "won", "acceptance", "open")


def percent(share: float | None) -> str:
    """``67%``, ``—`` when there is nothing to divide."""
    return "—" if share is None else f"{share:.0%}"


def duration(delta: timedelta | None) -> str:
    """``45s``, ``12m``, ``3.5h``, ``2.1d``; ``—`` for none."""
    if delta is None:
        return "—"
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def tally_cells(tally: Tally) -> tuple[str, ...]:
    """The figures of one row, as the terminal and the page print them."""
    return (
        f"{tally.handed_off:,}",
        f"{tally.answered:,}",
        f"{tally.accepted:,}",
        f"{tally.rejected:,}",
        f"{tally.won:,}",
        percent(tally.acceptance_rate),
        f"{tally.open:,}",
    )


def render_handoffs_html(report: HandoffReport, *, generated_at: datetime) -> str:
    """The whole page as text (UTF-8)."""
    window = f"{report.window.start.isoformat()} to {report.window.end.isoformat()}"
    total = report.total
    parts = [
        "<h1>Handoffs to sales</h1>",
        f'<p class="muted">Handoffs assigned {_e(window)}: {total.handed_off:,}, '
        f"{total.answered:,} answered, acceptance {percent(total.acceptance_rate)}; "
        f"as of {_e(report.now.isoformat())}, generated {_e(generated_at.isoformat())}</p>",
        "<h2>Speed to lead</h2>",
        _speed(report),
        "<h2>Acceptance</h2>",
        _tallies("stage", [total, *report.by_stage]),
        _rep_chart(report),
        "<h2>By stage rule</h2>",
        _tallies("rule", report.by_rule),
        "<h2>By lead source</h2>",
        _tallies("source", report.by_source),
        "<h2>By rep</h2>",
        _tallies("rep", report.by_rep),
        "<h2>Reject reasons</h2>",
        _reasons(report),
        "<h2>Time to accept</h2>",
        _time_to_accept(report),
        "<h2>SLA</h2>",
        f"<p>{report.past_sla:,} open handoffs are past their reminder or reassignment "
        f"time; {report.reassigned:,} handoffs were reassigned ({report.reassignments:,} "
        "reassignments in all).</p>",
        '<p class="muted">Figures explained in docs/handoff-report.md.</p>',
    ]
    return page("Handoffs to sales", parts)


def _tallies(what: str, tallies: Sequence[Tally]) -> str:
    if not tallies:
        return "<p>No handoffs in the window.</p>"
    head = f"<th>{_e(what)}</th>" + "".join(f'<th class="num">{c}</th>' for c in COLUMNS)
    rows = "".join(
        f"<tr><td>{_e(t.key)}</td>"
        + "".join(f'<td class="num">{_e(cell)}</td>' for cell in tally_cells(t))
        + "</tr>"
        for t in tallies
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _rep_chart(report: HandoffReport) -> str:
    reps = [t for t in report.by_rep if t.answered]
    if not reps:
        return ""
    return hbar_chart(
        "Acceptance rate by rep (% of answered handoffs)",
        [t.key for t in reps],
        [100 * (t.acceptance_rate or 0) for t in reps],
        BLUE,
        texts=[f"{percent(t.acceptance_rate)} of {t.answered:,}" for t in reps],
        top=100,
    )


def _reasons(report: HandoffReport) -> str:
    reasons = report.reject_reasons
    if not reasons:
        return "<p>No rejections.</p>"
    rows = "".join(
        f'<tr><td>{_e(r.reason)}</td><td class="num">{r.count:,}</td>'
        f'<td class="num">{percent(r.share)}</td></tr>'
        for r in reasons
    )
    table = (
        '<table><thead><tr><th>reason</th><th class="num">rejections</th>'
        f'<th class="num">share</th></tr></thead><tbody>{rows}</tbody></table>'
    )
    chart = hbar_chart(
        "Reject reasons (rejections)",
        [r.reason for r in reasons],
        [r.count for r in reasons],
        RED,
        texts=[f"{r.count:,} ({percent(r.share)})" for r in reasons],
    )
    return table + "\n" + chart


def _durations_row(label: str, d: Durations) -> str:
    return (
        f'<tr><td>{_e(label)}</td><td class="num">{d.count:,}</td>'
        f'<td class="num">{duration(d.median)}</td><td class="num">{duration(d.p90)}</td></tr>'
    )


def _time_to_accept(report: HandoffReport) -> str:
    rows = [_durations_row("all", report.time_to_accept)]
    rows += [_durations_row(s, d) for s, d in report.time_to_accept_by_stage.items()]
    return (
        '<table><thead><tr><th>stage</th><th class="num">accepted</th>'
        '<th class="num">median</th><th class="num">90th percentile</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _speed(report: HandoffReport) -> str:
    speed = report.speed_to_lead
    d = speed.durations
    within = "".join(
        f'<tr><td>within {_e(w.label)}</td><td class="num">{percent(w.share)}</td>'
        f'<td class="num">{w.answered:,} of {w.known:,}</td></tr>'
        for w in speed.within
    )
    chart = bar_chart(
        "First answer after the handoff (handoffs)",
        [b.label for b in speed.buckets],
        [Series("handoffs", [b.count for b in speed.buckets], GREY)],
    )
    return (
        f"<p>First answer of any kind: median <b>{duration(d.median)}</b>, 90th percentile "
        f"{duration(d.p90)} ({d.count:,} answered handoffs). Reaching a lead within 5 "
        "minutes rather than 30 gives about 21 times the odds of qualifying it.</p>"
        '<table><thead><tr><th>answered</th><th class="num">share</th>'
        f'<th class="num">handoffs</th></tr></thead><tbody>{within}</tbody></table>\n{chart}'
    )


def _e(text: str) -> str:
    return escape(text, quote=True)
