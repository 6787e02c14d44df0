"""`nurture reps`: who receives handoffs today, and marking a rep away or back.

Reps themselves live in nurture.yaml (``handoff.reps``); availability is run-time state in
the database, so a rep going on holiday needs no config change or deploy.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.core.clock import SYSTEM_CLOCK
from nurture.core.handoff_model import Rep
from nurture.core.windows import local_to_utc
from nurture.core.working_time import zone
from nurture.errors import NotFound
from nurture.services.assignment import find_rep, rep_statuses, set_away, working_hours_text

reps_app = typer.Typer(
    help="Sales reps: who receives handoffs, who is away (reps are listed in nurture.yaml).",
    no_args_is_help=True,
)
app.add_typer(reps_app, name="reps")

NameArg = Annotated[
    str, typer.Argument(help="The rep's name as in nurture.yaml, e.g. 'Priya Shah'")
]


@reps_app.command("list")
def list_reps(
    as_json: Annotated[bool, typer.Option("--json", help="Print the reps as JSON")] = False,
) -> None:
    """Every rep: team, weight, working hours, daily cap, away until, handoffs today."""
    handoff = context.funnel().handoff
    now = SYSTEM_CLOCK.now()
    with context.database().unit_of_work(readonly=True) as uow:
        statuses = rep_statuses(uow.session, handoff, now)
    if as_json:
        print(json.dumps([status.as_dict(now) for status in statuses], indent=2))
        return
    if not statuses:
        console.print("no reps: add them under handoff.reps in nurture.yaml (docs/handoff.md)")
        return
    table = Table("name", "team", "weight", "hours", "time zone", "now", "today")
    for status in statuses:
        rep = status.rep
        cap = f"/{rep.daily_cap}" if rep.daily_cap else ""
        if status.away_until:
            state = f"[yellow]away until {_local(rep, status.away_until)}[/]"
        else:
            state = "[green]at work[/]" if status.at_work else "[dim]off work[/]"
        table.add_row(
            rep.name,
            rep.team,
            str(rep.weight),
            working_hours_text(rep).removesuffix(f" {rep.time_zone}"),
            rep.time_zone,
            state,
            f"{status.assigned_today}{cap}",
        )
    console.print(table)


@reps_app.command("away")
def away(
    name: NameArg,
    until: Annotated[
        str,
        typer.Option(
            help="Back on this date (at midnight in the rep's zone) or at this time: "
            "2026-12-01, 2026-12-01T13:00 (rep's zone) or 2026-12-01T13:00+00:00",
        ),
    ],
) -> None:
    """Stop handing leads to NAME until a date; their accounts' leads go to others meanwhile.

    Example:  nurture reps away "Priya Shah" --until 2026-12-01
    """
    rep = _find(name)
    now = SYSTEM_CLOCK.now()
    back = _parse_until(until, rep)
    if back <= now:
        raise typer.BadParameter(f"{until} has passed; give a later date", param_hint="--until")
    with context.database().unit_of_work() as uow:
        set_away(uow.session, rep.name, back, now)
    when = f"{_local(rep, back)} {rep.time_zone}"
    console.print(f"{rep.name} is away until {when}: no handoffs until then.")


@reps_app.command("back")
def back(name: NameArg) -> None:
    """NAME receives handoffs again from now."""
    rep = _find(name)
    with context.database().unit_of_work() as uow:
        set_away(uow.session, rep.name, None, SYSTEM_CLOCK.now())
    console.print(f"{rep.name} is back: handoffs resume.")


def _find(name: str) -> Rep:
    try:
        return find_rep(context.funnel().handoff, name)
    except NotFound as exc:  # one unwrapped line, so the suggestion reads whole
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _parse_until(text: str, rep: Rep) -> datetime:
    """A date or datetime; without an offset it is read in the rep's own zone."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date such as 2026-12-01 or 2026-12-01T13:00",
            param_hint="--until",
        ) from None
    if parsed.tzinfo is not None:
        return parsed
    return local_to_utc(parsed, zone(rep.time_zone))


def _local(rep: Rep, instant: datetime) -> str:
    """``2026-12-01 00:00`` in the rep's zone."""
    return f"{instant.astimezone(zone(rep.time_zone)):%Y-%m-%d %H:%M}"
