"""``nurture validate``: check a funnel directory and list every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nurture.cli.app import app, console
from nurture.config import ConfigProblem, validate_funnel
from nurture.core.funnel import Funnel
from nurture.core.sequence import Send


@app.command()
def validate(
    directory: Path | None = typer.Argument(
        None,
        help="Funnel folder holding nurture.yaml, sequences/ and templates/ "
        "(default: NURTURE_FUNNEL_DIR, else the current directory).",
        show_default=False,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
    github: bool = typer.Option(
        False, "--github", help="Print GitHub Actions annotations (::error file=...)."
    ),
) -> None:
    """Check nurture.yaml, every sequence and every template; list all problems.

    Each problem reads file:line:column: error: key.path: found ...; expected ...,
    with a did-you-mean where one helps. Exit status 1 if there is any problem.

    \b
    Examples:
      nurture validate                 # the funnel in NURTURE_FUNNEL_DIR or here
      nurture validate examples/shop   # another funnel folder
      nurture validate --json | jq '.problems[].message'
      nurture validate --github        # inline annotations in GitHub Actions
    """
    if as_json and github:
        raise typer.BadParameter("choose one of --json and --github")
    if directory is None:
        from nurture.cli.context import settings

        directory = settings().funnel_dir
    funnel, problems = validate_funnel(directory)
    if as_json:
        version = funnel.version if funnel is not None else None
        report = {"valid": not problems, "version": version, "problems": _dicts(problems)}
        typer.echo(json.dumps(report, indent=2))
    else:
        for problem in problems:
            typer.echo(problem.github() if github else problem.format())
        _summary(funnel, problems)
    if problems:
        raise typer.Exit(1)


def _dicts(problems: list[ConfigProblem]) -> list[dict[str, object]]:
    return [problem.as_dict() for problem in problems]


def _summary(funnel: Funnel | None, problems: list[ConfigProblem]) -> None:
    if funnel is None or problems:
        files = len({problem.file for problem in problems})
        text = f"✗ {_count(len(problems), 'problem')} in {_count(files, 'file')}"
        console.print(f"[red]{text}[/red]", highlight=False)
        return
    templates = {
        step.action.template
        for sequence in funnel.sequences.values()
        for step in sequence.steps
        if isinstance(step.action, Send)
    }
    text = (
        f"✓ funnel valid: {_count(len(funnel.sequences), 'sequence')}, "
        f"{_count(len(templates), 'template')}, version {funnel.version[:8]}…"
    )
    console.print(f"[green]{text}[/green]", highlight=False)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
