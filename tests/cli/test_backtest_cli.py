"""`nurture backtest` over a small stored history and the example funnel's model (the
current one) against a candidate scoring file with lower thresholds, on both backends."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from nurture.cli import app, context
from nurture.store.models import Event, Lead, StageChange

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WINDOW = ["--from", "2026-07-01", "--to", "2026-09-30"]

CANDIDATE = """\
# A looser model: a single click makes a lead warm, three make it an MQL.
engagement:
  rules:
    - {name: clicked-email, event: clicked, points: 5}
hand_raisers:
  - {name: demo-request, event: demo_requested, stage: sql}
ladder:
  warm: engagement >= 5
  mql: engagement >= 15
  sql: hand_raiser
"""


@pytest.fixture
def candidate(tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(CANDIDATE)
    return path


@pytest.fixture
def history(cli):
    """ana asks for a demo (SQL under both; later won), ben clicks once (warm only under the
    candidate), cy clicks three times a week apart (MQL only under the candidate), dee does
    nothing, eve is created after the window."""
    ids = itertools.count(1)
    with context.database().unit_of_work() as uow:
        session = uow.session

        def lead(name, created=T0):
            row = Lead(
                email=f"{name}@northwind.example",
                time_zone="UTC",
                stage="cold",
                created_at=created,
                updated_at=created,
            )
            session.add(row)
            session.flush()
            return row

        def event(row, kind, at):
            session.add(
                Event(
                    lead_id=row.id,
                    type=kind,
                    source="test",
                    source_event_id=f"e{next(ids)}",
                    occurred_at=at,
                    received_at=at,
                )
            )

        ana = lead("ana")
        event(ana, "custom:demo_requested", T0 + 2 * DAY)  # as the site stores it
        for from_stage, to_stage, days in (("cold", "sql", 2), ("sql", "customer", 30)):
            session.add(
                StageChange(
                    lead_id=ana.id,
                    from_stage=from_stage,
                    to_stage=to_stage,
                    config_version="v1",
                    at=T0 + days * DAY,
                )
            )
        ana.stage = "customer"
        event(lead("ben"), "clicked", T0 + DAY)
        cy = lead("cy")
        for week in range(3):
            event(cy, "clicked", T0 + (1 + 7 * week) * DAY)
        lead("dee")
        lead("eve", created=datetime(2026, 10, 5, tzinfo=UTC))


def test_json_gives_the_figures_side_by_side(cli, candidate, history):
    result = cli.invoke(app, ["backtest", "--model", str(candidate), *WINDOW, "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["leads"], report["events"], report["won"]) == (4, 5, 1)
    current, candid = report["models"]["current"], report["models"]["candidate"]
    assert {s: n for s, n in current["entered"].items() if n} == {"sql": 1}
    assert {s: n for s, n in candid["entered"].items() if n} == {"warm": 2, "mql": 1, "sql": 1}
    assert (current["mqls"], candid["mqls"]) == (1, 2)
    assert current["days_to_mql"] == {"median": 2.0, "p75": 2.0}
    assert candid["days_to_mql"] == {"median": 8.5, "p75": 11.8}  # 2 and 15 days
    assert (current["precision"], current["recall"]) == (1.0, 1.0)
    assert (candid["precision"], candid["recall"]) == (0.5, 1.0)
    assert [(d["email"], d["current"], d["candidate"]) for d in report["differences"]] == [
        ("ben@northwind.example", "cold", "warm"),
        ("cy@northwind.example", "cold", "mql"),
    ]
    assert candid["source"] == str(candidate)
    assert report["ground_truth"].startswith("a real stage change to 'customer'")


def test_the_terminal_table_shows_both_models_and_the_differing_leads(cli, candidate, history):
    result = cli.invoke(app, ["backtest", "--model", str(candidate), *WINDOW])

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 leads, 5 events" in out
    assert "current" in out and "candidate" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 3}
    assert [cell.strip() for cell in lines["entered warm"].split("│")[2:5]] == ["0", "2", "+2"]
    assert [c.strip() for c in lines["precision (won MQLs / MQLs)"].split("│")[2:4]] == [
        "100.0%",
        "50.0%",
    ]
    assert "2 leads end in a different stage" in out
    assert "cy@northwind.example" in out
    assert "won = a real stage change to 'customer'" in out


def test_html_writes_a_self_contained_report_with_both_charts(cli, candidate, history, tmp_path):
    out = tmp_path / "backtest.html"

    result = cli.invoke(
        app, ["backtest", "--model", str(candidate), *WINDOW, "--html", str(out), "--json"]
    )

    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2
    assert "Leads entering each stage in the window" in page
    assert "MQLs so far (mql or above), by day" in page
    assert "<polyline" in page and "<rect" in page
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        ElementTree.fromstring(svg)  # well-formed, so every browser draws it
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "cy@northwind.example" in page


def test_current_chooses_the_model_to_compare_against(cli, candidate, history):
    result = cli.invoke(
        app, ["backtest", "--model", str(candidate), "--current", str(candidate), *WINDOW, "--json"]
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["models"]["current"]["mqls"] == report["models"]["candidate"]["mqls"] == 2
    assert report["differences"] == []


def test_a_broken_model_file_is_refused_with_its_place(cli, tmp_path, history):
    bad = tmp_path / "bad.yaml"
    bad.write_text("ladder:\n  warm: engagment >= 5\n")

    result = cli.invoke(app, ["backtest", "--model", str(bad), *WINDOW])

    assert result.exit_code == 2
    assert f"{bad.name}:2:" in result.stderr
    assert "engagement" in result.stderr  # the did-you-mean
    assert "is not a valid scoring model" in result.stderr
    assert result.stdout == ""


def test_from_after_to_is_refused(cli, candidate):
    result = cli.invoke(
        app, ["backtest", "--model", str(candidate), "--from", "2026-10-01", "--to", "2026-09-30"]
    )

    assert result.exit_code == 2
    assert "--from 2026-10-01 is after --to 2026-09-30" in result.stderr


def test_a_date_that_is_not_one_is_refused(cli, candidate):
    result = cli.invoke(
        app, ["backtest", "--model", str(candidate), "--from", "last tuesday", "--to", "2026-09-30"]
    )

    assert result.exit_code == 2
    assert "'last tuesday' is not a date" in result.stderr


def test_help_teaches_with_an_example(cli):
    result = cli.invoke(app, ["backtest", "--help"])

    assert result.exit_code == 0
    assert "nurture backtest --model candidate.yaml --from 2026-07-01 --to 2026-09-30" in (
        result.stdout
    )
