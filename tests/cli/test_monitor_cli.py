"""`tnrwatch monitor signals` through the real Typer app, on both databases: a jump is listed with its evidence, as a
table and as JSON; a malformed month is refused naming the option."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.domain.escalation import add_months
from tnrwatch.services import incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings

from ..factories import incident_data


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


def test_signals_as_table_and_json(runner: CliRunner, node: Node, operator: Principal) -> None:
    as_of = dt.date(2025, 12, 1)
    days = [add_months(as_of, -back).replace(day=10) for back in range(1, 25)] + [
        as_of.replace(day=d) for d in range(1, 8)
    ]
    for day in days:
        incidents.create_incident(node, operator, incident_data(date_start=day.isoformat()))

    table = runner.invoke(app, ["monitor", "signals", "--as-of", "2025-12"])
    assert table.exit_code == 0, table.output
    assert "UZ->TR" in table.stdout
    assert "physical" in table.stdout

    listed = runner.invoke(app, ["monitor", "signals", "--as-of", "2025-12", "--json"])
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.stdout)
    assert {(s["kind"], s["value"]) for s in body} == {
        ("origin", "UZ"),
        ("host", "TR"),
        ("pair", "UZ->TR"),
        ("tactic_family", "physical"),
    }
    assert body[0]["observed"] == 7
    assert body[0]["series"][-1] == ["2025-12", 7]

    calm = runner.invoke(app, ["monitor", "signals", "--as-of", "2025-11", "--json"])
    assert calm.exit_code == 0, calm.output
    assert json.loads(calm.stdout) == []


def test_a_malformed_month_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["monitor", "signals", "--as-of", "2025-13"])
    assert result.exit_code == 2
    assert "as_of" in result.stderr
    assert "YYYY-MM" in result.stderr
