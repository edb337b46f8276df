"""The scheduled jobs: one run shreds what retention made due and tells supervisors of overdue acknowledgements;
a second run finds nothing new. And the server runs them by itself once started. Both databases."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tnrwatch.services import accounts, cases, retention
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake
from tnrwatch.services.schedule import run_due_jobs
from tnrwatch.settings import Settings
from tnrwatch.store.models import CaseEvent, Notification, Report
from tnrwatch.store.types import utcnow
from tnrwatch.web.app import create_app

from .test_reports import make_officer, send_report

OPERATOR = Principal.operator()


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def due_and_overdue(node: Node, intake: Intake) -> tuple[object, object]:
    officer = make_officer(node, "olga", "DE")
    accounts.add_account(node, OPERATOR, "sven", "supervisor", jurisdiction="DE")
    retention.set_retention(node, OPERATOR, "DE", 10)
    closed = send_report(intake, "DE").report_id
    for target in ("acknowledged", "triaged", "closed"):
        cases.move(node, officer.principal, closed, target)
    late = send_report(intake, "DE").report_id
    with node.store.writing() as session:
        session.execute(update(CaseEvent).values(at=utcnow() - dt.timedelta(days=11)))
        session.execute(update(Report).where(Report.id == late).values(acknowledge_by=utcnow() - dt.timedelta(days=1)))
    return closed, late


def test_one_run_does_every_job_and_the_next_finds_nothing(node: Node, intake: Intake) -> None:
    closed, late = due_and_overdue(node, intake)
    first = run_due_jobs(node)
    assert (first.shredded, first.overdue_notices) == (1, 1)
    second = run_due_jobs(node)
    assert (second.shredded, second.overdue_notices) == (0, 0)
    with node.store.reading() as session:
        assert session.scalar(select(Report.shredded_at).where(Report.id == closed)) is not None
        assert session.scalar(select(Notification.report_id).where(Notification.kind == "overdue")) == late


def test_the_server_runs_the_jobs_once_started(settings: Settings) -> None:
    node = Node.open(settings)
    try:
        closed, _ = due_and_overdue(node, Intake(node))
    finally:
        node.close()
    with TestClient(create_app(settings), base_url="https://testserver") as client:  # the app opens its own node
        assert client.get("/health").status_code == 200
        deadline = time.monotonic() + 30
        while True:
            node = client.app.state.node  # type: ignore[attr-defined]  # the FastAPI application's state
            with node.store.reading() as session:
                if session.scalar(select(Report.shredded_at).where(Report.id == closed)) is not None:
                    break
            assert time.monotonic() < deadline, "the scheduled jobs did not run"
            time.sleep(0.1)
