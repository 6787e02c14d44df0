"""The backtest's side-by-side figures as rows of text, shared by the terminal table and the
HTML report so both always say the same thing."""

from __future__ import annotations

from dataclasses import dataclass

from nurture.core.backtest_report import BacktestReport

__all__ = ["Row", "days", "ratio", "stages_shown", "summary_rows"]


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[str, str]  # in contender order
    change: str  # second minus first, "" when it means nothing
    section: str  # entered, final, mql, outcome: the table draws a line between sections


def summary_rows(report: BacktestReport) -> list[Row]:
    """Leads entering each stage, stages at the end, MQLs, time to MQL, precision/recall."""
    models = report.models
    first, second = models
    rows: list[Row] = []
    for stage in stages_shown(report, "entered"):
        rows.append(
            _count(f"entered {stage}", [f.entered.get(stage, 0) for f in models], "entered")
        )
    for stage in stages_shown(report, "final"):
        rows.append(
            _count(f"in {stage} at the end", [f.final.get(stage, 0) for f in models], "final")
        )
    rows.append(_count(f"MQLs ({report.mql_stage} or above)", [f.mqls for f in models], "mql"))
    timed: list[tuple[str, float | None, float | None]] = [
        ("days to MQL, median", first.median_days_to_mql, second.median_days_to_mql),
        ("days to MQL, 75th percentile", first.p75_days_to_mql, second.p75_days_to_mql),
    ]
    for label, a, b in timed:
        change = f"{b - a:+.1f} d" if a is not None and b is not None else ""
        rows.append(Row(label, (days(a), days(b)), change, "mql"))
    rows.append(_count("MQLs sales accepted", [f.accepted_mqls for f in models], "outcome"))
    rows.append(_count("won MQLs", [f.won_mqls for f in models], "outcome"))
    rates: list[tuple[str, float | None, float | None]] = [
        ("precision (won MQLs / MQLs)", first.precision, second.precision),
        ("recall (won MQLs / won leads)", first.recall, second.recall),
    ]
    for label, a, b in rates:
        change = f"{(b - a) * 100:+.1f} pts" if a is not None and b is not None else ""
        rows.append(Row(label, (ratio(a), ratio(b)), change, "outcome"))
    return rows


def stages_shown(report: BacktestReport, which: str) -> list[str]:
    """Stages either model has a lead in (always the MQL stage)."""
    counts = [getattr(figures, which) for figures in report.models]
    return [
        stage
        for stage in dict.fromkeys([*report.stages, *counts[0], *counts[1]])
        if stage == report.mql_stage or any(c.get(stage, 0) for c in counts)
    ]


def _count(label: str, values: list[int], section: str) -> Row:
    a, b = values
    return Row(label, (f"{a:,}", f"{b:,}"), f"{b - a:+,}" if a != b else "0", section)


def days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} d"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"
