"""`nurture notifications list` and `nurture notifications retry`: the handoff outbox and
its dead letters."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.core.clock import SYSTEM_CLOCK
from nurture.services.notifications import list_notifications, retry
from nurture.store.handoff_models import Notification

notifications_app = typer.Typer(
    help=(
        "The handoff notifications outbox (Slack, Teams, email, CRM webhook).\n\n"
        "Each notification is retried with backoff for NURTURE_NOTIFICATION_GIVE_UP_AFTER "
        "(24h); one that still fails, or that its receiver refused (a 4xx such as Slack's "
        "invalid_blocks, a channel whose URL is not set), becomes a dead letter. Fix the "
        "cause, then replay them:\n\n"
        "  nurture notifications list --dead\n\n"
        "  nurture notifications retry --all-dead"
    ),
    no_args_is_help=True,
)
app.add_typer(notifications_app, name="notifications")


@notifications_app.command("list")
def list_command(
    dead: Annotated[
        bool, typer.Option("--dead", help="Only dead letters (given up or refused)")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Show at most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON")] = False,
) -> None:
    """List notifications, newest first, or only the dead letters.

    Each row shows its status (pending, sending, sent, dead), channel, lead, attempts, the
    next try and the last error in the receiver's own words, e.g. "slack: POST
    hooks.slack.com: 400 invalid_blocks".

    Example:  nurture notifications list --dead
    """
    with context.database().unit_of_work(readonly=True) as uow:
        rows = [
            _row(n)
            for n in list_notifications(uow.session, status="dead" if dead else None, limit=limit)
        ]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("no dead letters" if dead else "no notifications")
        return
    table = Table("id", "status", "channel", "kind", "lead", "attempts", "next try", "last error")
    for row in rows:
        next_try = (row["next_attempt_at"] or "")[:19].replace("T", " ")
        table.add_row(
            str(row["id"]), row["status"], row["channel"], row["kind"], row["lead"] or "",
            str(row["attempts"]), next_try, row["last_error"] or "",
        )  # fmt: skip
    console.print(table)


@notifications_app.command("retry")
def retry_command(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Ids of dead notifications (see `list --dead`)")
    ] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead letter")] = False,
) -> None:
    """Send dead notifications again, after fixing what killed them.

    Each goes back to pending, due now, its attempts reset; the scheduler (`nurture run` or
    `nurture scheduler`) hands it to the workers. A failure is retried with backoff again,
    except that a notification older than NURTURE_NOTIFICATION_GIVE_UP_AFTER gets this one
    attempt. Exits 1 if an id was not a dead letter.

    Example:  nurture notifications retry 12 15     or     nurture notifications retry --all-dead
    """
    if bool(ids) == all_dead:
        err_console.print("error: give notification ids or --all-dead (not both)")
        raise typer.Exit(2)
    with context.database().unit_of_work() as uow:
        done = retry(uow.session, uow.jobs, SYSTEM_CLOCK.now(), ids or (), all_dead=all_dead)
    missing = sorted(set(ids or ()) - set(done))
    if missing:
        listed = ", ".join(map(str, missing))
        err_console.print(f"not dead (or no such notification), left alone: {listed}")
    console.print(f"{len(done)} notification{'s' if len(done) != 1 else ''} queued again")
    if missing:
        raise typer.Exit(1)


def _row(n: Notification) -> dict[str, Any]:
    lead = n.context.get("lead") if isinstance(n.context, dict) else None
    return {
        "id": n.id,
        "status": n.status,
        "channel": n.channel,
        "kind": n.kind,
        "handoff_id": n.handoff_id,
        "lead_id": n.lead_id,
        "lead": lead.get("email") if isinstance(lead, dict) else None,
        "recipient": n.recipient,
        "attempts": n.attempts,
        "next_attempt_at": n.next_attempt_at.isoformat() if n.next_attempt_at else None,
        "last_error": n.last_error,
        "created_at": n.created_at.isoformat(),
        "sent_at": n.sent_at.isoformat() if n.sent_at else None,
    }
