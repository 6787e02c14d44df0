"""The backtest as one self-contained HTML page: the side-by-side figures, a bar chart of
leads entering each stage and a cumulative MQLs-over-time chart (inline SVG, no scripts, no
external files), and the leads whose stage differs. Every value is escaped."""

from __future__ import annotations

from datetime import datetime
from html import escape

from nurture.core.backtest_report import BacktestReport
from nurture.reports.backtest_rows import stages_shown, summary_rows
from nurture.reports.page import page
from nurture.reports.svg import Series, bar_chart, line_chart

__all__ = ["COLORS", "render_html"]

COLORS = ("#8a99a8", "#2f6fde")  # first (current) and second (candidate) model
DIFFERENCES_SHOWN = 2000


def render_html(report: BacktestReport, *, generated_at: datetime) -> str:
    """The whole page as text (UTF-8)."""
    first, second = report.models
    names = (first.name, second.name)
    parts = [
        f"<h1>Backtest: {escape(first.name)} vs {escape(second.name)} model</h1>",
        f'<p class="muted">{_e(_window(report))}; {report.leads:,} leads, '
        f"{report.events:,} events replayed; generated {_e(generated_at.isoformat())}</p>",
        _models(report),
        "<h2>Side by side</h2>",
        _summary(report, names),
        _charts(report),
        f"<h2>Leads whose stage differs ({len(report.differences):,})</h2>",
        _differences(report, names),
        "<h2>How to read this</h2>",
        _notes(report),
    ]
    return page(f"Backtest: {first.name} vs {second.name}", parts)


def _window(report: BacktestReport) -> str:
    return f"{report.window.start.isoformat()} to {report.window.end.isoformat()}"


def _models(report: BacktestReport) -> str:
    items = []
    for figures, color in zip(report.models, COLORS, strict=True):
        version = f", version <code>{_e(figures.version[:12])}</code>" if figures.version else ""
        items.append(
            f'<li><span style="color:{color}">&#9632;</span> <b>{_e(figures.name)}</b>: '
            f"<code>{_e(figures.source)}</code>{version}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _summary(report: BacktestReport, names: tuple[str, str]) -> str:
    head = (
        f'<tr><th>figure</th><th class="num">{_e(names[0])}</th>'
        f'<th class="num">{_e(names[1])}</th><th class="num">change</th></tr>'
    )
    rows, section = [], None
    for row in summary_rows(report):
        css = ' class="section"' if section is not None and row.section != section else ""
        section = row.section
        rows.append(
            f"<tr{css}><td>{_e(row.label)}</td><td class='num'>{_e(row.values[0])}</td>"
            f"<td class='num'>{_e(row.values[1])}</td><td class='num'>{_e(row.change)}</td></tr>"
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _charts(report: BacktestReport) -> str:
    stages = stages_shown(report, "entered")
    bars = bar_chart(
        "Leads entering each stage in the window",
        stages,
        [
            Series(f.name, [f.entered.get(s, 0) for s in stages], color)
            for f, color in zip(report.models, COLORS, strict=True)
        ],
    )
    cumulative = [f.cumulative_mqls(report.window) for f in report.models]
    days = [day for day, _ in cumulative[0]]
    lines = line_chart(
        f"MQLs so far ({report.mql_stage} or above), by day",
        days,
        [
            Series(f.name, [count for _, count in series], color)
            for f, series, color in zip(report.models, cumulative, COLORS, strict=True)
        ],
    )
    return f"<h2>Charts</h2>\n{bars}\n{lines}"


def _differences(report: BacktestReport, names: tuple[str, str]) -> str:
    if not report.differences:
        return "<p>None: both models leave every lead in the same stage.</p>"
    shown = report.differences[:DIFFERENCES_SHOWN]
    rows = "".join(
        f"<tr><td class='num'>{d.lead_id}</td><td>{_e(d.email)}</td><td>{_e(d.stage_now)}</td>"
        f"<td>{_e(d.stages[0])}</td><td>{_e(d.stages[1])}</td></tr>"
        for d in shown
    )
    more = len(report.differences) - len(shown)
    note = f"<p class='muted'>and {more:,} more (all of them in <code>--json</code>)</p>"
    return (
        "<table><thead><tr><th class='num'>lead</th><th>email</th><th>stage now</th>"
        f"<th>{_e(names[0])}</th><th>{_e(names[1])}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>" + (note if more > 0 else "")
    )


def _notes(report: BacktestReport) -> str:
    notes = [
        "Each lead created before the end of the window is replayed from the stage it was "
        "created in, with the clock at each of its events: the card is computed and the "
        "ladder applied, as the engine does after each event. Events before the window "
        "count toward scores; only stage changes inside the window are counted.",
        f"MQLs: leads a model moved from below <code>{_e(report.mql_stage)}</code> to it "
        "or above it inside the window (a hand-raiser straight to SQL counts). Days to "
        "MQL are counted from each lead's creation.",
        f"Ground truth: a lead is won when sales moved it to "
        f"<code>{_e(report.won_stage)}</code> (a real stage change, at or after the "
        f"window's start); {report.won:,} leads are. Precision = won MQLs / MQLs; recall = "
        "won MQLs / won leads.",
        "Only the ladder moves leads in the replay: sales feedback and sunset are not "
        "replayed. Stage now is the lead's real stage today.",
    ]
    return "<ul>" + "".join(f"<li>{note}</li>" for note in notes) + "</ul>"


def _e(text: str) -> str:
    return escape(text, quote=True)
