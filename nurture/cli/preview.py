"""``nurture preview``: render one send step to files, for a stored lead, a persona file or
the funnel's sample lead. Nothing is sent and nothing is opened."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import yaml
from rich.markup import escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from nurture.cli import context
from nurture.cli.app import app, console, err_console
from nurture.core.funnel import Funnel
from nurture.core.lead import LEAD_FIELDS, LeadProfile
from nurture.core.sequence import Send, Sequence
from nurture.errors import NurtureError
from nurture.mail import RenderContext, Renderer
from nurture.mail.check import sample_profile
from nurture.mail.context import guess_account
from nurture.store.models import Account, Lead

PERSONA_KEYS = (*LEAD_FIELDS, "attributes", "account")
AccountPair = tuple[str | None, str | None]  # (name, domain)


HELP = (
    "Render one email of the funnel to files, to read before any lead gets it.\n\n"
    "Writes subject.txt, email.html (CSS inlined, as it is sent) and email.txt (the text "
    "part), then prints the subject, the file paths and the text part. Nothing is sent and "
    "nothing is opened.\n\n"
    "The lead is the funnel's sample_lead unless --lead names a lead in the database or "
    "--persona a YAML/JSON file such as:  {email: sam@acme.example, first_name: Sam, "
    "company: Acme, attributes: {company_size: 40}}. "
    "Unsubscribe and preference links point at NURTURE_BASE_URL/u/preview.\n\n"
    "Exit status 1 if the sequence, step or lead is unknown or the email fails to render.\n\n"
    "\b\n"
    "Examples:\n"
    "  nurture preview cold-education welcome\n"
    "  nurture preview cold-education soft-ask --persona sam.yaml\n"
    "  nurture preview warm-evaluation demo-invite \\\n"
    "      --lead jordan.rivera@northwind.example --out /tmp/demo\n"
    "  open preview/cold-education/welcome/email.html"
)


@app.command(help=HELP)
def preview(
    sequence: Annotated[
        str, typer.Argument(metavar="SEQUENCE", help="Sequence id, e.g. cold-education.")
    ],
    step: Annotated[
        str, typer.Argument(metavar="STEP", help="Id of a send step in it, e.g. welcome.")
    ],
    lead: Annotated[
        str | None,
        typer.Option("--lead", metavar="EMAIL", help="Render for this lead from the database."),
    ] = None,
    persona: Annotated[
        Path | None,
        typer.Option(
            "--persona",
            metavar="FILE",
            dir_okay=False,
            help="YAML or JSON file: lead fields (email, first_name, company, …), "
            "attributes: {…} and optionally account: {name, domain}.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            file_okay=False,
            help="Folder for subject.txt, email.html and email.txt.",
            show_default="preview/SEQUENCE/STEP",
        ),
    ] = None,
) -> None:
    """Render one email of the funnel to files, to read before any lead gets it."""
    if lead and persona:
        _fail("use one of --lead and --persona, not both")
    settings = context.settings()
    funnel = _funnel()
    chosen = _sequence(funnel, sequence)
    send = _send_step(chosen, step)
    if lead:
        profile, account, who = _stored_lead(lead)
    elif persona:
        profile, account, who = _persona(persona)
    else:
        profile = sample_profile(funnel.sample_lead)
        account, who = guess_account(profile), "the funnel's sample_lead"
    renderer = Renderer(settings.funnel_dir / "templates", funnel.sender, settings.base_url)
    render_context = RenderContext.for_step(
        profile,
        chosen,
        step,
        renderer.preview_links(),
        account_name=account[0],
        account_domain=account[1],
    )
    try:
        email = renderer.render(send, render_context)
    except NurtureError as exc:
        _fail(str(exc))
    folder = out if out is not None else Path("preview") / sequence / step
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "subject.txt", folder / "email.html", folder / "email.txt"]
    for path, content in zip(paths, (email.subject + "\n", email.html, email.text), strict=True):
        path.write_text(content, encoding="utf-8")

    _line("Subject", email.subject)
    _line("Preheader", email.preheader or "(none)")
    _line("Lead", f"{profile.email} ({who})")
    _line("Template", send.template)
    for path in paths:
        _line("Wrote", str(path))
    console.rule("email.txt")
    console.print(email.text, markup=False, highlight=False, soft_wrap=True, end="")


def _funnel() -> Funnel:
    try:
        return context.funnel()
    except NurtureError as exc:
        _fail(f"{exc}\nrun `nurture validate` to see every problem")


def _sequence(funnel: Funnel, sequence_id: str) -> Sequence:
    found = funnel.sequences.get(sequence_id)
    if found is None:
        _fail(f"unknown sequence {sequence_id!r}", sequence_id, funnel.sequences)
    return found


def _send_step(sequence: Sequence, step_id: str) -> Send:
    send_ids = [s.id for s in sequence.sends()]
    if not sequence.has_step(step_id):
        _fail(f"sequence {sequence.id!r} has no step {step_id!r}", step_id, send_ids)
    action = sequence.step(step_id).action
    if not isinstance(action, Send):
        kind = sequence.step(step_id).kind
        _fail(f"step {step_id!r} is a {kind} step; only send steps render", None, send_ids)
    return action


def _stored_lead(email: str) -> tuple[LeadProfile, AccountPair, str]:
    from nurture.services.lead_input import normalise_email
    from nurture.services.situation import profile_of

    try:
        address = normalise_email(email)
    except ValueError as exc:
        _fail(f"--lead {email!r} is not an email address: {exc}")
    try:
        with context.database().unit_of_work(readonly=True) as uow:
            row = uow.session.scalars(select(Lead).where(Lead.email == address)).first()
            if row is None:
                _fail(f"no lead with email {address!r} in the database")
            company = uow.session.get(Account, row.account_id) if row.account_id else None
            profile = profile_of(row)
            account = (company.name, company.domain) if company else (None, None)
    except SQLAlchemyError as exc:
        _fail(f"cannot read leads from the database ({type(exc).__name__}); run `nurture migrate`?")
    return profile, account, "from the database"


def _persona(path: Path) -> tuple[LeadProfile, AccountPair, str]:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        _fail(f"cannot read persona {path}: {exc}")
    if not isinstance(data, Mapping):
        _fail(f"persona {path}: expected a mapping of lead fields, e.g. first_name: Jordan")
    for key in data:
        if key not in PERSONA_KEYS:
            _fail(
                f"persona {path}: unknown key {key!r}; custom fields go under attributes:",
                str(key),
                PERSONA_KEYS,
            )
    fields = {k: v for k, v in data.items() if k != "account"}
    fields.setdefault("email", "persona@example.com")
    account = data.get("account") or {}
    if not isinstance(account, Mapping) or not isinstance(fields.get("attributes", {}), Mapping):
        _fail(f"persona {path}: attributes and account must be mappings")
    profile = LeadProfile.from_mapping(fields)
    name, domain = account.get("name"), account.get("domain")
    pair = (str(name) if name else None, str(domain) if domain else None)
    return profile, pair if any(pair) else guess_account(profile), f"persona {path}"


def _line(label: str, value: str) -> None:
    console.print(
        f"[bold]{label + ':':<10}[/bold] {escape(value)}", highlight=False, soft_wrap=True
    )


def _fail(message: str, word: str | None = None, choices: Iterable[str] = ()) -> NoReturn:
    names = sorted(choices)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6) if word else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = f"; choose from: {', '.join(names)}" if names else ""
    err_console.print(
        f"[red]error:[/red] {escape(message)}{escape(hint)}{escape(known)}",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)
