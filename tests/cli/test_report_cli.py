"""`nurture report handoffs` over handoffs and answers written to the store, on both
backends: the terminal tables, the JSON figures, the HTML page with its charts, the default
window and refused dates."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from nurture.cli import app, context
from nurture.cli.app import console
from nurture.store.models import Handoff, HandoffAnswer, Lead, StageChange

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
WINDOW = ["--from", "2026-09-01", "--to", "2026-09-30"]
MQL_RULE = "mql: fit in [A, B] and engagement >= 50"
DEMO_RULE = "hand-raiser demo-request"


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setattr(console, "width", 200)  # whatever COLUMNS the shell had at import
    monkeypatch.setenv("NURTURE_DATABASE_URL", db_url)
    monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(REPO))
    context.settings.cache_clear()
    context.database.cache_clear()
    yield CliRunner()
    context.database().engine.dispose()
    context.settings.cache_clear()
    context.database.cache_clear()


def hand_off(session, name, *, rule, owner, source, at=T0, answers=()):
    lead = Lead(
        email=f"{name}@northwind.example",
        time_zone="UTC",
        stage="mql",
        source=source,
        created_at=at,
        updated_at=at,
    )
    session.add(lead)
    session.flush()
    change = StageChange(
        lead_id=lead.id,
        from_stage="warm",
        to_stage="mql",
        reason={"kind": "promotion", "rule": rule},
        config_version="v1",
        at=at,
    )
    session.add(change)
    session.flush()
    handoff = Handoff(
        lead_id=lead.id,
        stage_change_id=change.id,
        stage="mql",
        owner=owner,
        team="sdr",
        assignment={},
        status=answers[-1][0] if answers else "open",
        assigned_at=at,
        reassignments=0,
        created_at=at,
        updated_at=at,
    )
    session.add(handoff)
    session.flush()
    for outcome, after, reason in answers:
        session.add(
            HandoffAnswer(
                handoff_id=handoff.id, outcome=outcome, reason=reason, via="api", at=at + after
            )
        )


@pytest.fixture
def history(cli):
    """In September: ana accepted after 3 minutes then won; ben rejected <b>bad_fit</b> after
    2 hours by a rep whose name needs escaping; cy still open. Before it: dee, accepted."""
    with context.database().unit_of_work() as uow:
        s = uow.session
        answers = (("accepted", 3 * MIN, None), ("won", 60 * 24 * MIN, None))
        hand_off(s, "ana", rule=MQL_RULE, owner="Ana", source="webinar", answers=answers)
        hand_off(
            s,
            "ben",
            rule=MQL_RULE,
            owner="<b>[red]Ben</b>",
            source="ads",
            answers=(("rejected", 120 * MIN, "bad_fit"),),
        )
        hand_off(s, "cy", rule=DEMO_RULE, owner="Ana", source="webinar")
        hand_off(
            s,
            "dee",
            rule=MQL_RULE,
            owner="Ana",
            source="ads",
            at=T0 - timedelta(days=10),
            answers=(("accepted", MIN, None),),
        )


def test_json_gives_the_figures(cli, history):
    result = cli.invoke(app, ["report", "handoffs", *WINDOW, "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    total = report["total"]
    assert (total["handed_off"], total["answered"], total["accepted"]) == (3, 2, 1)
    assert (total["rejected"], total["won"], total["open"]) == (1, 1, 1)
    assert total["acceptance_rate"] == 0.5
    by_rep = {row["key"]: row["acceptance_rate"] for row in report["by_rep"]}
    assert by_rep == {"Ana": 1.0, "<b>[red]Ben</b>": 0.0}
    assert {row["key"]: row["handed_off"] for row in report["by_rule"]} == {
        MQL_RULE: 2,
        DEMO_RULE: 1,
    }
    assert {row["key"]: row["handed_off"] for row in report["by_source"]} == {
        "webinar": 2,
        "ads": 1,
    }
    assert report["reject_reasons"] == [{"reason": "bad_fit", "count": 1, "share": 1.0}]
    assert report["time_to_accept"]["median_s"] == 180.0
    assert report["time_to_accept"]["by_stage"]["mql"]["count"] == 1
    speed = report["speed_to_lead"]
    assert speed["median_s"] == (180 + 7200) / 2
    assert speed["within"][0] == {
        "limit": "5 minutes",
        "limit_s": 300,
        "answered": 1,
        "known": 3,
        "share": 0.3333,
    }
    assert report["window"] == {
        "from": "2026-09-01T00:00:00+00:00",
        "to": "2026-09-30T23:59:59.999999+00:00",
    }


def test_terminal_shows_tables_by_rule_source_and_rep(cli, history):
    result = cli.invoke(app, ["report", "handoffs", *WINDOW], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    out = result.output
    assert "3 handed off, 2 answered, acceptance 50%" in out
    for heading in ("stage rule", "lead source", "rep", "reject reason", "time to accept"):
        assert heading in out
    assert re.search(r"Ana\s+│\s+2\s+│\s+1\s+│\s+1\s+│\s+0\s+│\s+1\s+│\s+100%\s+│\s+1", out)
    assert "hand-raiser demo-request" in out
    assert "<b>[red]Ben</b>" in out  # names print as written, not as Rich markup
    assert "bad_fit" in out
    assert "33% within 5 minutes (1 of 3)" in out


def test_html_writes_a_page_with_the_svg_charts(cli, history, tmp_path):
    page = tmp_path / "handoffs.html"

    result = cli.invoke(app, ["report", "handoffs", *WINDOW, "--html", str(page)])

    assert result.exit_code == 0, result.output
    assert "HTML report with charts" in result.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.DOTALL)
    assert len(svgs) == 3
    titles = [ElementTree.fromstring(svg).get("aria-label") for svg in svgs]  # well-formed
    assert titles == [
        "First answer after the handoff (handoffs)",
        "Acceptance rate by rep (% of answered handoffs)",
        "Reject reasons (rejections)",
    ]
    assert "<b>[red]Ben</b>" not in html and "&lt;b&gt;[red]Ben&lt;/b&gt;" in html
    assert "100% of 1" in svgs[1]


def test_json_and_html_together_keep_stdout_json(cli, history, tmp_path):
    page = tmp_path / "handoffs.html"

    result = cli.invoke(app, ["report", "handoffs", *WINDOW, "--json", "--html", str(page)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]["handed_off"] == 3
    assert page.exists()


def test_default_window_is_the_last_90_days(cli):
    now = datetime.now(UTC)
    with context.database().unit_of_work() as uow:
        hand_off(uow.session, "new", rule=MQL_RULE, owner="Ana", source="ads", at=now - MIN)
        hand_off(
            uow.session,
            "old",
            rule=MQL_RULE,
            owner="Ana",
            source="ads",
            at=now - 91 * 24 * 60 * MIN,
        )

    result = cli.invoke(app, ["report", "handoffs", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["total"]["handed_off"] == 1
    start = datetime.fromisoformat(report["window"]["from"])
    end = datetime.fromisoformat(report["window"]["to"])
    assert end - start == timedelta(days=90)


def test_an_empty_window_says_so(cli):
    result = cli.invoke(app, ["report", "handoffs", *WINDOW])

    assert result.exit_code == 0, result.output
    assert "0 handed off, 0 answered, acceptance —" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01"], "'2026-13-01' is not a date"),
        (["--to", "yesterday"], "'yesterday' is not a date"),
        (["--from", "2026-10-01", "--to", "2026-09-01"], "the window must start before it ends"),
    ],
)
def test_bad_dates_are_refused_clearly(cli, args, message):
    result = cli.invoke(app, ["report", "handoffs", *args])

    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
