"""The Typer application every command module registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="nurture",
    help=(
        "nurture: a lead-nurturing engine whose funnel is code.\n\n"
        "Start with `nurture validate` to check the funnel, `nurture migrate` to create the\n"
        "database and `nurture run` to serve the API on http://127.0.0.1:8000 (docs at /docs)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)
