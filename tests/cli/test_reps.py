"""`nurture reps list/away/back` over the shipped funnel's sales team, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nurture.cli import app

REPO = Path(__file__).resolve().parents[2]


def reps(cli: CliRunner) -> dict[str, dict[str, object]]:
    result = cli.invoke(app, ["reps", "list", "--json"])
    assert result.exit_code == 0, result.output
    return {rep["name"]: rep for rep in json.loads(result.output)}


def test_list_shows_the_team_from_nurture_yaml_with_nobody_away(cli):
    listed = reps(cli)
    assert list(listed)[:3] == ["Priya Shah", "Diego Morales", "Tom Becker"]
    priya = listed["Priya Shah"]
    assert (priya["team"], priya["weight"], priya["daily_cap"]) == ("sdr", 2, 25)
    assert priya["hours"] == "mon-fri 09:00-17:30 America/New_York"
    assert listed["Tom Becker"]["hours"] == "mon-thu 09:00-17:00 Europe/Berlin"
    assert all(rep["away_until"] is None and rep["assigned_today"] == 0 for rep in listed.values())
    table = cli.invoke(app, ["reps", "list"])
    assert table.exit_code == 0 and "Priya Shah" in table.output and "ae-emea" in table.output


def test_away_until_a_date_means_midnight_in_the_reps_zone_and_back_clears_it(cli):
    result = cli.invoke(app, ["reps", "away", "Priya Shah", "--until", "2099-12-01"])
    assert result.exit_code == 0, result.output
    assert "Priya Shah is away until 2099-12-01 00:00 America/New_York" in result.output
    priya = reps(cli)["Priya Shah"]
    assert priya["away_until"] == "2099-12-01T05:00:00+00:00"
    assert priya["available"] is False

    assert cli.invoke(app, ["reps", "back", "Priya Shah"]).exit_code == 0
    assert reps(cli)["Priya Shah"]["away_until"] is None


def test_an_explicit_offset_is_kept(cli):
    until = "2099-12-01T13:00+01:00"
    assert cli.invoke(app, ["reps", "away", "Tom Becker", "--until", until]).exit_code == 0
    assert reps(cli)["Tom Becker"]["away_until"] == "2099-12-01T12:00:00+00:00"


def test_an_unknown_name_suggests_the_closest_rep(cli):
    result = cli.invoke(app, ["reps", "away", "Priya Sha", "--until", "2099-12-01"])
    assert result.exit_code == 2
    assert "did you mean 'Priya Shah'?" in result.output


@pytest.mark.parametrize(("until", "says"), [("2001-01-01", "has passed"), ("soon", "not a date")])
def test_a_bad_until_is_refused_and_changes_nothing(cli, until, says):
    result = cli.invoke(app, ["reps", "away", "Priya Shah", "--until", until])
    assert result.exit_code == 2
    assert says in result.output
    assert reps(cli)["Priya Shah"]["away_until"] is None
