"""`nurture import`: leads from a CSV file, in batches, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nurture.cli import context
from nurture.cli.app import app, console
from nurture.core.clock import SYSTEM_CLOCK
from nurture.services.csv_import import Row, count_records, read_rows, stage_problem
from nurture.services.leads import Outcome, upsert_leads


@app.command("import")
def import_leads(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file")],
    source: Annotated[
        str | None, typer.Option(help="Source recorded on new leads, e.g. 'webinar-2026-10'")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Rows per transaction")] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Import leads from a CSV file (upsert by email).

    The header names the columns: email (required), first_name, last_name, title,
    company, company_domain, country, time_zone, stage, source; any other column becomes
    a custom attribute. Valid rows are saved; invalid rows are listed with their line
    number and reason, and the exit status is then 1. Re-running the same file changes
    nothing.

    Example:  nurture import leads.csv --source trade-show-2026
    """
    settings = context.settings()
    funnel = context.funnel()
    database = context.database()
    totals = {outcome: 0 for outcome in Outcome}
    invalid: list[Row] = []
    batch: list[Row] = []

    def flush() -> None:
        if not batch:
            return
        with database.unit_of_work() as uow:
            result = upsert_leads(
                uow.session,
                funnel,
                [row.lead for row in batch if row.lead],
                now=SYSTEM_CLOCK.now(),
                default_time_zone=settings.default_time_zone,
                source=source,
            )
        for _, outcome in result.leads:
            totals[outcome] += 1
        batch.clear()

    total = count_records(path)
    with (
        path.open(newline="", encoding="utf-8-sig") as stream,
        Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("rows", total=total)
        try:
            rows = read_rows(stream)
            for row in rows:
                progress.advance(task)
                problem = row.error or stage_problem(funnel, row)
                if problem:
                    invalid.append(Row(row.line, None, problem, row.email))
                    continue
                batch.append(row)
                if len(batch) >= batch_size:
                    flush()
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="PATH") from None
        flush()

    _report(path, totals, invalid, as_json)
    if invalid:
        raise typer.Exit(1)


def _report(path: Path, totals: dict[Outcome, int], invalid: list[Row], as_json: bool) -> None:
    invalid.sort(key=lambda row: row.line)
    if as_json:
        print(
            json.dumps(
                {
                    **{o.value: n for o, n in totals.items()},
                    "invalid": [
                        {"line": r.line, "email": r.email, "reason": r.error} for r in invalid
                    ],
                }
            )
        )
        return
    if invalid:
        table = Table("line", "email", "reason", title=f"{len(invalid)} invalid rows, not saved")
        for row in invalid:
            table.add_row(str(row.line), row.email or "", row.error or "")
        console.print(table)
    console.print(
        f"{path.name}: [green]{totals[Outcome.CREATED]} created[/green], "
        f"{totals[Outcome.UPDATED]} updated, {totals[Outcome.UNCHANGED]} unchanged, "
        f"[{'red' if invalid else 'green'}]{len(invalid)} invalid[/]",
        highlight=False,
        soft_wrap=True,
    )
