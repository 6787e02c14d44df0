"""`nurture backtest`: replay stored history through the current and a candidate scoring
model and compare what each would have done, in the terminal, as JSON or as an HTML report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.core.backtest import Contender, Window
from nurture.core.backtest_report import Backtest, BacktestReport
from nurture.core.clock import SYSTEM_CLOCK
from nurture.core.funnel import Funnel
from nurture.core.scoring_model import ScoringModel
from nurture.errors import ConfigInvalid
from nurture.reports.backtest_html import render_html
from nurture.reports.backtest_rows import summary_rows
from nurture.services.backtest_data import BATCH, count_leads, lead_histories

DATE_HELP = "2026-01-01 (a day: from its start / to its end, UTC) or 2026-01-01T09:30+02:00"


@app.command()
def backtest(
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            dir_okay=False,
            help="Candidate model: a scoring file (the scoring mapping at its top) or a "
            "whole nurture.yaml",
            show_default=False,
        ),
    ],
    start: Annotated[
        str, typer.Option("--from", metavar="DATE", help=f"Window start: {DATE_HELP}")
    ],
    end: Annotated[str, typer.Option("--to", metavar="DATE", help=f"Window end: {DATE_HELP}")],
    current: Annotated[
        Path | None,
        typer.Option(
            "--current",
            dir_okay=False,
            help="Model to compare against (default: the funnel's own, NURTURE_FUNNEL_DIR)",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", dir_okay=False, help="Also write an HTML report with charts here"),
    ] = None,
    mql_stage: Annotated[str, typer.Option(help="The stage that counts as an MQL")] = "mql",
    won_stage: Annotated[
        str, typer.Option(help="The stage sales feedback moves won leads to")
    ] = "customer",
    show: Annotated[int, typer.Option(min=0, help="Differing leads listed in the terminal")] = 20,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Leads per read")] = BATCH,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Compare a candidate scoring model with the current one on stored history.

    Every lead created before --to is replayed from the stage it was created
    in: at each of its events the score is computed with the clock at that
    event and the ladder applied, once per model. Events before --from count
    toward scores; only stage changes from --from to --to are counted.

    Side by side: leads entering each stage, MQLs and days to MQL (median,
    75th percentile), and precision and recall of each model's MQLs against
    won leads (a real stage change to --won-stage: sales feedback is the
    ground truth). Then the leads whose stage differs. Changes nothing.

    \b
    Examples:
      nurture backtest --model candidate.yaml --from 2026-07-01 --to 2026-09-30
      nurture backtest --model candidate.yaml --current old/nurture.yaml \\
          --from 2026-07-01 --to 2026-09-30 --html q3-backtest.html
      nurture backtest --model candidate.yaml --json \\
          --from 2026-07-01 --to 2026-09-30 > q3.json

    See docs/backtest.md for what each figure means.
    """
    window = _window(start, end)
    funnel = context.funnel()
    contenders = (
        Contender(
            "current", _model(current, funnel, "--current"), str(current or _pipeline_file())
        ),
        Contender("candidate", _model(model, funnel, "--model"), str(model)),
    )
    try:
        tally = Backtest(
            contenders,
            funnel.ladder,
            window,
            side_stages=funnel.side_stages,
            mql_stage=mql_stage,
            won_stage=won_stage,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mql-stage/--won-stage") from None
    report = _replay(tally, funnel, contenders, as_json, batch_size)
    if html is not None:
        html.write_text(render_html(report, generated_at=SYSTEM_CLOCK.now()), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        if html is not None:
            err_console.print(f"wrote {html}", highlight=False)
        return
    _print(report, show)
    if html is not None:
        console.print(f"HTML report with charts: [bold]{html}[/bold]", highlight=False)


def _replay(
    tally: Backtest,
    funnel: Funnel,
    contenders: tuple[Contender, Contender],
    quiet: bool,
    batch_size: int,
) -> BacktestReport:
    database = context.database()
    end = tally.window.end
    with database.unit_of_work(readonly=True) as uow:
        total = count_leads(uow.session, end)
    with Progress(
        TextColumn("[bold]replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("leads", total=total)
        batches = lead_histories(
            database,
            [c.model for c in contenders],
            end,
            initial_stage=funnel.initial_stage,
            won_stage=tally.won_stage,
            batch=batch_size,
        )
        for batch in batches:
            for history in batch:
                tally.add(history)
            progress.advance(task, len(batch))
    return tally.report()


def parse_when(text: str, *, end_of_day: bool) -> datetime:
    """``2026-01-01`` (that day's start, or its end with ``end_of_day``) or an ISO 8601
    date-time; without a zone, UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date: expected {DATE_HELP}") from None
    if len(text.strip()) == 10 and end_of_day:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _window(start: str, end: str) -> Window:
    try:
        begins = parse_when(start, end_of_day=False)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from") from None
    try:
        ends = parse_when(end, end_of_day=True)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None
    if begins > ends:
        raise typer.BadParameter(
            f"--from {start} is after --to {end}: the window must start before it ends",
            param_hint="--from/--to",
        )
    return Window(begins, ends)


def _pipeline_file() -> Path:
    return context.settings().funnel_dir / "nurture.yaml"


def _model(path: Path | None, funnel: Funnel, option: str) -> ScoringModel:
    """The funnel's own model, or the one in ``path``; a broken file ends the command with
    every problem at its file:line:column (exit status 2)."""
    if path is None:
        return funnel.scoring
    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file", param_hint=option)
    from nurture.config.scoring import load_scoring_model

    try:
        return load_scoring_model(path, ladder=funnel)
    except ConfigInvalid as exc:
        for problem in exc.problems:
            err_console.print(problem.format(), highlight=False, markup=False, soft_wrap=True)
        err_console.print(f"[red]error:[/red] {path} is not a valid scoring model", highlight=False)
        raise typer.Exit(2) from None


def _print(report: BacktestReport, show: int) -> None:
    first, second = report.models
    window = f"{report.window.start:%Y-%m-%d %H:%M} to {report.window.end:%Y-%m-%d %H:%M} UTC"
    console.print(
        f"[bold]backtest[/bold] {window}: {report.leads:,} leads, {report.events:,} events",
        highlight=False,
    )
    for figures in report.models:
        version = f" (version {figures.version[:12]})" if figures.version else ""
        console.print(f"  {figures.name}: {figures.source}{version}", highlight=False)
    table = Table("", first.name, second.name, "change", title_justify="left")
    for column in table.columns[1:]:
        column.justify = "right"
    section = None
    for row in summary_rows(report):
        if section is not None and row.section != section:
            table.add_section()
        table.add_row(row.label, *row.values, row.change)
        section = row.section
    console.print(table)
    console.print(
        f"ground truth: won = a real stage change to {report.won_stage!r} (sales feedback) "
        f"at or after --from; {report.won:,} leads won",
        highlight=False,
        soft_wrap=True,
    )
    differences = report.differences
    if not differences:
        console.print("no lead's stage differs between the models")
        return
    listed = differences[:show]
    more = ""
    if not listed:
        more = " (list them with --show N, --json or --html)"
    elif len(listed) < len(differences):
        more = f", first {len(listed)} listed (all with --json or --html)"
    console.print(f"{len(differences):,} leads end in a different stage{more}", highlight=False)
    if listed:
        leads = Table("lead", "email", "stage now", first.name, second.name)
        for d in listed:
            leads.add_row(str(d.lead_id), d.email, d.stage_now, *d.stages)
        console.print(leads)
