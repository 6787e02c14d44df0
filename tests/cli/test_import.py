"""`nurture import leads.csv` against a real database, on both backends."""

import json
from pathlib import Path

from sqlalchemy import select

from nurture.cli import app, context
from nurture.store.models import Enrollment, Lead

REPO = Path(__file__).resolve().parents[2]

GOOD_AND_BAD = """email,first_name,country,company_size,stage
ana@northwind.example,Ana,US,240,
ben@northwind.example,Ben,GB,240,warm
not-an-email,Cy,US,10,
dee@contoso.example,Dee,US,15,wram
eve@contoso.example,Eve,US,15,
"""


def leads_in_db():
    with context.database().unit_of_work(readonly=True) as uow:
        return {lead.email: lead for lead in uow.session.scalars(select(Lead))}


def test_valid_rows_are_saved_and_invalid_rows_reported_by_line(cli, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(GOOD_AND_BAD)

    result = cli.invoke(app, ["import", str(path), "--source", "fair-2026", "--json"])

    assert result.exit_code == 1, result.output
    summary = json.loads(result.output)
    assert summary["created"] == 3
    assert [(row["line"], row["email"]) for row in summary["invalid"]] == [
        (4, "not-an-email"),
        (5, "dee@contoso.example"),
    ]
    assert "did you mean 'warm'?" in summary["invalid"][1]["reason"]
    leads = leads_in_db()
    assert sorted(leads) == [
        "ana@northwind.example",
        "ben@northwind.example",
        "eve@contoso.example",
    ]
    assert leads["ben@northwind.example"].stage == "warm"
    assert leads["ana@northwind.example"].attributes == {"company_size": 240}
    assert leads["ana@northwind.example"].source == "fair-2026"
    with context.database().unit_of_work(readonly=True) as uow:
        sequences = {e.sequence_id for e in uow.session.scalars(select(Enrollment))}
    assert sequences == {"cold-education", "warm-evaluation"}


def test_rerunning_the_same_file_changes_nothing(cli, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(GOOD_AND_BAD)
    cli.invoke(app, ["import", str(path)])
    before = {email: lead.updated_at for email, lead in leads_in_db().items()}

    again = cli.invoke(app, ["import", str(path), "--json"])

    summary = json.loads(again.output)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 3)
    assert {email: lead.updated_at for email, lead in leads_in_db().items()} == before


def test_text_summary_lists_invalid_rows(cli, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(GOOD_AND_BAD)
    result = cli.invoke(app, ["import", str(path)])
    assert "2 invalid rows" in result.output
    assert "3 created" in result.output


def test_file_without_email_column_is_refused(cli, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("name\nJo\n")
    result = cli.invoke(app, ["import", str(path)])
    assert result.exit_code == 2
    assert "no 'email' column" in result.output
    assert leads_in_db() == {}
