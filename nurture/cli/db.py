"""`nurture migrate`: create or upgrade the database schema."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.store.migrate import current_revision, head_revision, upgrade


@app.command()
def migrate() -> None:
    """Create the database or upgrade its schema to this version of nurture.

    Uses NURTURE_DATABASE_URL (default: sqlite:///./var/nurture.db; the folder is created).
    Safe to re-run: a database that is already up to date is left alone. Run it before
    starting the API, workers and scheduler after every upgrade of nurture.
    """
    url = context.settings().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    head = head_revision()
    try:
        before = current_revision(url)
        if before == head:
            console.print(
                f"{shown}: already up to date (revision {head})", highlight=False, soft_wrap=True
            )
            return
        upgrade(url)
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        err_console.print(
            f"[red]error:[/red] cannot migrate {shown}: {reason}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    console.print(
        f"{shown}: migrated {before or 'empty'} -> {head}", highlight=False, soft_wrap=True
    )
