"""`nurture preview SEQUENCE STEP`: one email of the example funnel rendered to files."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nurture.cli import app, context
from nurture.services.lead_input import LeadIn
from nurture.services.leads import upsert_leads

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def preview(monkeypatch, tmp_path):
    """Run `nurture preview ARGS` in tmp_path over the example funnel."""
    monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(REPO))
    monkeypatch.setenv("NURTURE_BASE_URL", "https://nurture.test")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["preview", *args])

    return run


class TestPreviewFiles:
    def test_the_sample_lead_is_rendered_into_preview_sequence_step(self, preview, tmp_path):
        result = preview("cold-education", "welcome")

        assert result.exit_code == 0, result.output
        folder = tmp_path / "preview" / "cold-education" / "welcome"
        subject = "Welcome, Jordan — here is where to start"
        assert (folder / "subject.txt").read_text() == subject + "\n"
        html = (folder / "email.html").read_text()
        assert 'style="' in html and "https://nurture.test/u/preview" in html
        text = (folder / "email.txt").read_text()
        assert text.startswith("Lumen Analytics\n\nWelcome, Jordan\n")
        assert subject in result.stdout
        assert "jordan.rivera@northwind.example (the funnel's sample_lead)" in result.stdout
        assert "preview/cold-education/welcome/email.html" in result.stdout
        assert text in result.stdout

    def test_out_chooses_the_folder(self, preview, tmp_path):
        result = preview("warm-evaluation", "demo-invite", "--out", str(tmp_path / "here"))

        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / "here").iterdir()) == [
            "email.html",
            "email.txt",
            "subject.txt",
        ]
        assert not (tmp_path / "preview").exists()


class TestPersona:
    def test_a_yaml_persona_without_a_name_gets_the_fallbacks(self, preview, tmp_path):
        persona = tmp_path / "nobody.yaml"
        persona.write_text("email: sam@gmail.example\n")

        result = preview("cold-education", "soft-ask", "--persona", str(persona))

        assert result.exit_code == 0, result.output
        folder = tmp_path / "preview" / "cold-education" / "soft-ask"
        assert (folder / "subject.txt").read_text() == "Want to see your own retention curve?\n"
        assert (folder / "email.txt").read_text().startswith("Hi there,\n")
        assert f"sam@gmail.example (persona {persona})" in result.stdout

    def test_a_json_persona_with_attributes_and_account(self, preview, tmp_path):
        persona = tmp_path / "ana.json"
        persona.write_text(
            json.dumps(
                {
                    "email": "ana@contoso.example",
                    "first_name": "Ana",
                    "company": "Contoso",
                    "attributes": {"company_size": 5000},
                    "account": {"name": "Contoso Ltd", "domain": "contoso.example"},
                }
            )
        )

        result = preview("warm-evaluation", "roi-enterprise", "--persona", str(persona))

        assert result.exit_code == 0, result.output
        text = (
            tmp_path / "preview" / "warm-evaluation" / "roi-enterprise" / "email.txt"
        ).read_text()
        assert "around 5,000 people" in text
        assert "a worked example for Contoso Ltd" in text

    def test_an_unknown_persona_key_is_refused_with_a_hint(self, preview, tmp_path):
        persona = tmp_path / "typo.yaml"
        persona.write_text("email: a@b.example\nfrist_name: Ana\n")

        result = preview("cold-education", "welcome", "--persona", str(persona))

        assert result.exit_code == 1
        assert "unknown key 'frist_name'" in result.stderr
        assert "did you mean 'first_name'?" in result.stderr


class TestUnknownNames:
    def test_an_unknown_sequence_suggests_the_close_one(self, preview):
        result = preview("cold-educaton", "welcome")

        assert result.exit_code == 1
        assert "unknown sequence 'cold-educaton' (did you mean 'cold-education'?)" in result.stderr

    def test_an_unknown_step_suggests_the_close_send_step(self, preview):
        result = preview("cold-education", "welcom")

        assert result.exit_code == 1
        assert "has no step 'welcom' (did you mean 'welcome'?)" in result.stderr

    def test_a_step_that_sends_nothing_is_refused(self, preview):
        result = preview("cold-education", "clicked-guide")

        assert result.exit_code == 1
        assert "'clicked-guide' is a wait_for step" in result.stderr

    def test_lead_and_persona_together_are_refused(self, preview, tmp_path):
        result = preview("cold-education", "welcome", "--lead", "a@b.example", "--persona", "x")

        assert result.exit_code == 1
        assert "use one of --lead and --persona" in result.stderr


class TestBrokenFunnel:
    def test_a_template_that_fails_to_render_stops_with_its_line(
        self, preview, monkeypatch, tmp_path
    ):
        funnel_dir = tmp_path / "funnel"
        shutil.copytree(REPO / "sequences", funnel_dir / "sequences")
        shutil.copytree(REPO / "templates", funnel_dir / "templates")
        shutil.copy(REPO / "nurture.yaml", funnel_dir / "nurture.yaml")
        welcome = funnel_dir / "templates" / "cold" / "welcome.html"
        welcome.write_text(welcome.read_text().replace("lead | first_name_or", "lead.nam | x"))
        monkeypatch.setenv("NURTURE_FUNNEL_DIR", str(funnel_dir))

        result = preview("cold-education", "welcome")

        assert result.exit_code == 1
        assert "cold/welcome.html:4" in result.stderr
        assert "nurture validate" in result.stderr


class TestStoredLead:
    @pytest.fixture
    def stored(self, preview, sqlite_url, monkeypatch):
        monkeypatch.setenv("NURTURE_DATABASE_URL", sqlite_url)
        context.settings.cache_clear()
        lead = LeadIn(
            email="ana@contoso.example",
            first_name="Ana",
            company="Contoso",
            attributes={"company_size": 40},
        )
        with context.database().unit_of_work() as uow:
            upsert_leads(
                uow.session,
                context.funnel(),
                [lead],
                now=datetime(2026, 11, 23, 9, tzinfo=UTC),
                default_time_zone="UTC",
            )
        return preview

    def test_a_lead_is_found_by_its_normalised_email(self, stored, tmp_path):
        result = stored("cold-education", "welcome", "--lead", "  ANA@Contoso.example ")

        assert result.exit_code == 0, result.output
        assert "Welcome, Ana — here is where to start" in result.stdout
        assert "ana@contoso.example (from the database)" in result.stdout

    def test_an_unknown_lead_is_a_clear_error(self, stored):
        result = stored("cold-education", "welcome", "--lead", "nobody@contoso.example")

        assert result.exit_code == 1
        assert "no lead with email 'nobody@contoso.example'" in result.stderr
