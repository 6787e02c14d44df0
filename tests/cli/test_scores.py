"""`nurture explain` and `nurture rescore` against a real database, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nurture.cli import app, context
from nurture.config import load_funnel
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads
from nurture.services.site_event_input import parse_events
from nurture.services.site_events import RequestMeta, record_site_events
from nurture.store.models import Lead, StageChange

REPO = Path(__file__).resolve().parents[2]
FIT_A = {"title": "Head of Product", "country": "US", "attributes": {"company_size": 240}}


def add_lead_with_views(email: str, paths: list[str], when: datetime) -> None:
    """A lead and its page views, stored the way the API stores them; the jobs that would
    rescore them are dropped (no broker), as if the model changed after they arrived."""
    funnel = load_funnel(REPO)
    raw = [
        {"type": "page_view", "email": email, "url": f"https://lumen.example{path}",
         "event_id": f"{email}-{n}", "occurred_at": when.isoformat()}
        for n, path in enumerate(paths)
    ]  # fmt: skip
    with context.database().unit_of_work() as uow:
        upsert_leads(
            uow.session, funnel, [LeadIn.model_validate({"email": email, **FIT_A})],
            now=when, default_time_zone="UTC",
        )  # fmt: skip
        record_site_events(
            uow.session, uow.jobs, funnel, parse_events(raw, when, max_items=100, public=False),
            now=when, source="website", meta=RequestMeta(), default_time_zone="UTC",
        )  # fmt: skip


def stages() -> dict[str, str]:
    with context.database().unit_of_work(readonly=True) as uow:
        return {lead.email: lead.stage for lead in uow.session.scalars(select(Lead))}


def test_rescore_promotes_what_the_model_says_and_a_second_run_has_nothing_to_do(cli):
    now = datetime.now(UTC) - timedelta(minutes=5)
    add_lead_with_views("ana@northwind.example", ["/pricing", "/pricing/teams"], now)
    add_lead_with_views("ben@northwind.example", ["/blog"], now)

    result = cli.invoke(app, ["rescore", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["scored"] == 2
    assert summary["stage_changes"] == {"cold -> warm": 1}
    assert stages() == {"ana@northwind.example": "warm", "ben@northwind.example": "cold"}
    with context.database().unit_of_work(readonly=True) as uow:
        [change] = uow.session.scalars(select(StageChange))
        assert change.reason["rule"] == "warm: engagement >= 20"
    again = json.loads(cli.invoke(app, ["rescore", "--json"]).output)
    assert again["scored"] == 0 and again["stage_changes"] == {}
    everyone = json.loads(cli.invoke(app, ["rescore", "--all", "--json"]).output)
    assert everyone["scored"] == 2 and everyone["stage_changes"] == {}


def test_explain_prints_points_the_holding_rule_and_what_is_missing(cli):
    now = datetime.now(UTC) - timedelta(minutes=5)
    add_lead_with_views("ana@northwind.example", ["/pricing", "/pricing/teams"], now)
    cli.invoke(app, ["rescore"])

    result = cli.invoke(app, ["explain", "ana@northwind.example"])

    assert result.exit_code == 0, result.output
    out = result.output
    assert "stage warm" in out
    assert "fit A (65 points)" in out
    assert "pricing-page" in out and "senior-title" in out
    assert "holds: warm: engagement >= 20" in out
    assert "next: mql: needs 28 more engagement points" in out
    assert "cold" in out and "warm" in out  # the history table


def test_explain_json_is_the_api_document(cli):
    now = datetime.now(UTC) - timedelta(minutes=5)
    add_lead_with_views("ana@northwind.example", ["/blog"], now)
    document = json.loads(cli.invoke(app, ["explain", "ANA@northwind.example", "--json"]).output)
    assert document["email"] == "ana@northwind.example"
    assert document["stage"] == "cold"
    assert document["next_stage"] == "warm"
    # one visit is 1 point, lifted to the floor of 2: 18 more make 20
    assert document["needs"].startswith("needs 18 more engagement points")


def test_explain_an_unknown_email_says_so(cli):
    result = cli.invoke(app, ["explain", "nobody@nowhere.example"])
    assert result.exit_code != 0
    assert "no lead with email 'nobody@nowhere.example'" in str(result.exception)
