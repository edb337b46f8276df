"""`tnrwatch jurisdictions set-retention` and `tnrwatch retention` through the real Typer app, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import cases
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings
from tnrwatch.store.models import CaseEvent, Report
from tnrwatch.store.types import utcnow

from ..services.test_reports import make_officer, send_report


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


def test_retention_is_set_listed_and_run(runner: CliRunner, node: Node) -> None:
    intake = Intake(node)
    officer = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    for target in ("acknowledged", "triaged", "closed"):
        cases.move(node, officer.principal, report_id, target)

    refused = runner.invoke(app, ["jurisdictions", "set-retention", "DE"])
    assert refused.exit_code == 2
    assert "--days N or --keep" in refused.stderr
    invalid = runner.invoke(app, ["jurisdictions", "set-retention", "DE", "--days", "-3"])
    assert invalid.exit_code == 2
    assert "days" in invalid.stderr
    assert runner.invoke(app, ["jurisdictions", "set-retention", "DE", "--days", "30"]).exit_code == 0
    listed = runner.invoke(app, ["jurisdictions", "list"])
    assert "30 days after closing" in listed.stdout

    due = runner.invoke(app, ["retention", "due"])
    assert due.exit_code == 0, due.output
    assert "0 report(s) due" in due.stderr
    with node.store.writing() as session:  # the case closed 31 days ago
        session.execute(update(CaseEvent).values(at=utcnow() - dt.timedelta(days=31)))
    due = runner.invoke(app, ["retention", "due"])
    assert str(report_id) in due.stdout
    ran = runner.invoke(app, ["retention", "run"])
    assert ran.exit_code == 0, ran.output
    assert "1 report(s) shredded" in ran.stderr
    with node.store.reading() as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.shredded_at is not None

    unconfirmed = runner.invoke(app, ["retention", "shred", str(report_id)])
    assert unconfirmed.exit_code == 2
    again = runner.invoke(app, ["retention", "shred", "--yes", str(report_id)])
    assert again.exit_code == 0
    assert "0 report(s) shredded (1 were already)" in again.stderr
