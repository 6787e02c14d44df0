"""`nurture explain EMAIL` and `nurture rescore`: why a lead is where it is, and scoring
every lead again after the model changed."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nurture.cli import context
from nurture.cli.app import app, console
from nurture.core.clock import SYSTEM_CLOCK
from nurture.services import handoffs  # noqa: F401  (registers the stage listener)
from nurture.services.explain import explain_lead, lead_id_for_email
from nurture.services.rescore import count_to_rescore, lead_batches
from nurture.services.scoring import BATCH, rescore_leads


@app.command()
def explain(
    email: Annotated[str, typer.Argument(help="The lead's email address")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON")] = False,
) -> None:
    """Explain a lead's stage: fit and engagement now, each rule's points (before and after
    decay), the ladder rule that holds and what is missing for the next stage.

    Computed from the lead's events with the funnel on disk, at the current time.

    Example:  nurture explain jordan.rivera@northwind.example
    """
    funnel = context.funnel()
    database = context.database()
    with database.unit_of_work(readonly=True) as uow:
        lead_id = lead_id_for_email(uow.session, email)
        found = explain_lead(uow.session, funnel, lead_id, SYSTEM_CLOCK.now())
    document = found.as_dict()
    if as_json:
        console.print_json(json.dumps(document))
        return
    _print_explanation(document)


def _print_explanation(doc: dict[str, Any]) -> None:
    score = doc["score"]
    since = f" since {doc['stage_since'][:10]}" if doc["stage_since"] else ""
    console.print(f"[bold]{doc['email']}[/bold]: stage [bold]{doc['stage']}[/bold]{since}")
    console.print(
        f"fit [bold]{score['fit_grade']}[/bold] ({score['fit_points']} points), "
        f"engagement [bold]{score['engagement']}[/bold]"
    )
    rules = Table(
        "rule", "kind", "events", "points", "now", title="what counts", title_justify="left"
    )
    for row in score["fit"] + score["contributions"]:
        events = str(row["events"]) if row["kind"] != "fit" else ""
        rules.add_row(row["rule"], row["kind"], events, _num(row["raw"]), _num(row["points"]))
    if rules.row_count:
        console.print(rules)
    decay = doc["decay"]
    if decay["half_life"]:
        console.print(f"decay: half-life {decay['half_life']}, floor {decay['floor']}")
    holding = doc["holding_rule"]
    if holding:
        console.print(f"holds: [green]{holding['stage']}: {holding['rule']}[/green]")
    if doc["next_stage"]:
        console.print(f"next: [bold]{doc['next_stage']}[/bold]: {doc['needs']}")
    pending = doc["pending_change"]
    if pending:
        console.print(
            f"[yellow]pending: {pending['kind']} to {pending['to_stage']} ({pending['rule']})"
        )
    if doc["history"]:
        history = Table("at", "from", "to", "why", title="stage history", title_justify="left")
        for change in doc["history"]:
            why = change["reason"].get("rule") or change["reason"].get("kind") or ""
            history.add_row(change["at"][:16], change["from_stage"] or "", change["to_stage"], why)
        console.print(history)


def _num(value: float) -> str:
    return f"{value:g}"


@app.command()
def rescore(
    all_leads: Annotated[
        bool,
        typer.Option("--all", help="Rescore every lead, not only those scored by another model"),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Leads per transaction")] = BATCH,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Score leads again with the funnel's current model and apply the ladder.

    Run after changing the scoring model: leads whose score came from another model version
    (or none) are rescored in batches, each its own transaction, and promoted or moved back
    where the new model says so; each stage change records its reason. Safe to stop and
    run again: it goes on where it stopped.

    Example:  nurture rescore
    """
    funnel = context.funnel()
    database = context.database()
    version = None if all_leads else funnel.version
    with database.unit_of_work(readonly=True) as uow:
        total = count_to_rescore(uow.session, version)
    scored = 0
    moves: dict[str, int] = {}
    with Progress(
        TextColumn("[bold]rescoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
        transient=True,
    ) as progress:
        task = progress.add_task("leads", total=total)
        for ids in lead_batches(database, version, batch_size):
            with database.unit_of_work() as uow:
                outcome = rescore_leads(uow.session, uow.jobs, funnel, ids, SYSTEM_CLOCK.now())
            scored += outcome.scored
            for change in outcome.changes:
                key = f"{change.from_stage} -> {change.to_stage}"
                moves[key] = moves.get(key, 0) + 1
            progress.advance(task, len(ids))
    summary = {"scored": scored, "stage_changes": moves, "model_version": funnel.version}
    if as_json:
        console.print_json(json.dumps(summary))
        return
    console.print(f"rescored {scored} leads with model {funnel.version[:12]}")
    for move, count in sorted(moves.items()):
        console.print(f"  {move}: {count}")
