"""Command line: `nurture --help` lists the commands."""

from __future__ import annotations

import sys

from nurture.cli import (  # noqa: F401  (register commands)
    backtest,
    db,
    leads,
    notifications,
    preview,
    report,
    reps,
    run,
    scores,
    validate,
)
from nurture.cli.app import app, err_console
from nurture.errors import NurtureError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry: a NurtureError ends the command with one clear line, exit 2."""
    try:
        app()
    except NurtureError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
