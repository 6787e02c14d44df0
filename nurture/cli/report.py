"""`nurture report handoffs`: how sales answer the leads handed to them, and how fast, in
the terminal, as JSON or as an HTML page with charts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.cli.backtest import DATE_HELP, parse_when
from nurture.core.backtest import Window
from nurture.core.clock import SYSTEM_CLOCK
from nurture.core.handoff_stats import HandoffReport, Tally
from nurture.core.handoff_timing import Durations
from nurture.reports.handoffs_html import (
    COLUMNS,
    duration,
    percent,
    render_handoffs_html,
    tally_cells,
)
from nurture.services.handoff_report import read_report

#: The window when --from is not given: this many days before --to.
DEFAULT_DAYS = 90

report_app = typer.Typer(
    help=(
        "Reports on what the engine and sales did.\n\n"
        "  nurture report handoffs --html handoffs.html"
    ),
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")


@report_app.command("handoffs")
def handoffs(
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help=f"First day counted (default: 90 days before --to): {DATE_HELP}",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="DATE",
            help=f"Last day counted (default: now): {DATE_HELP}",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", dir_okay=False, help="Also write an HTML report with charts here"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Acceptance, reject reasons, time to accept and speed to lead of handoffs to sales.

    For the handoffs assigned from --from to --to (default: the last 90 days):
    handed off, answered, accepted (accepted or won), rejected, won, acceptance
    rate (accepted / answered) and still open, overall and per stage, stage
    rule, lead source and rep; reject reasons with their share; time to accept
    (median, 90th percentile) per stage; speed to lead, the time to the rep's
    first answer of any kind, and the share answered within 5 minutes, 1 hour
    and 1 day; open handoffs past their SLA and reassignments. Changes nothing.

    \b
    Examples:
      nurture report handoffs
      nurture report handoffs --from 2026-07-01 --to 2026-09-30 \\
          --html q3-handoffs.html
      nurture report handoffs --from 2026-09-01 --json > september.json

    See docs/handoff-report.md for what each figure means.
    """
    now = SYSTEM_CLOCK.now()
    report = read_report(context.database(), _window(start, end, now), now)
    if html is not None:
        html.write_text(render_handoffs_html(report, generated_at=now), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        if html is not None:
            err_console.print(f"wrote {html}", highlight=False)
        return
    _print(report)
    if html is not None:
        console.print(f"HTML report with charts: [bold]{html}[/bold]", highlight=False)


def _window(start: str | None, end: str | None, now: datetime) -> Window:
    try:
        ends = parse_when(end, end_of_day=True) if end is not None else now
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None
    try:
        begins = (
            parse_when(start, end_of_day=False)
            if start is not None
            else ends - timedelta(days=DEFAULT_DAYS)
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from") from None
    if begins > ends:
        raise typer.BadParameter(
            f"--from {start} is after --to {end or 'now'}: the window must start before it ends",
            param_hint="--from/--to",
        )
    return Window(begins, ends)


def _print(report: HandoffReport) -> None:
    window = f"{report.window.start:%Y-%m-%d %H:%M} to {report.window.end:%Y-%m-%d %H:%M} UTC"
    total = report.total
    console.print(
        f"[bold]handoffs[/bold] assigned {window}: {total.handed_off:,} handed off, "
        f"{total.answered:,} answered, acceptance {percent(total.acceptance_rate)}",
        highlight=False,
        soft_wrap=True,
    )
    if not total.handed_off:
        return
    console.print(_tallies("stage", [total, *report.by_stage]))
    for what, tallies in (
        ("stage rule", report.by_rule),
        ("lead source", report.by_source),
        ("rep", report.by_rep),
    ):
        console.print(_tallies(what, tallies))
    if report.reject_reasons:
        reasons = Table("reject reason", "rejections", "share", title_justify="left")
        for r in report.reject_reasons:
            reasons.add_row(escape(r.reason), f"{r.count:,}", percent(r.share))
        _right(reasons)
        console.print(reasons)
    timing = Table("", "count", "median", "90th percentile", title_justify="left")
    timing.add_row(*_timing("time to accept", report.time_to_accept))
    for stage, durations in report.time_to_accept_by_stage.items():
        timing.add_row(*_timing(f"  at {escape(stage)}", durations))
    timing.add_section()
    timing.add_row(*_timing("speed to lead (first answer)", report.speed_to_lead.durations))
    _right(timing)
    console.print(timing)
    shares = ", ".join(
        f"{percent(w.share)} within {w.label} ({w.answered:,} of {w.known:,})"
        for w in report.speed_to_lead.within
    )
    console.print(f"answered {shares}", highlight=False, soft_wrap=True)
    console.print(
        f"SLA: {report.past_sla:,} open past their reminder or reassignment time; "
        f"{report.reassigned:,} handoffs reassigned ({report.reassignments:,} reassignments)",
        highlight=False,
        soft_wrap=True,
    )


def _tallies(what: str, tallies: list[Tally] | tuple[Tally, ...]) -> Table:
    table = Table(what, *COLUMNS, title_justify="left")
    _right(table)
    for tally in tallies:
        table.add_row(escape(tally.key), *tally_cells(tally))  # names may hold [brackets]
    return table


def _timing(label: str, durations: Durations) -> tuple[str, str, str, str]:
    return (label, f"{durations.count:,}", duration(durations.median), duration(durations.p90))


def _right(table: Table) -> None:
    for column in table.columns[1:]:
        column.justify = "right"
