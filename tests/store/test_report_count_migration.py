"""Migration 0011 counts the reports already stored per hour and jurisdiction, so that the hourly ceilings hold
across the upgrade; the intake keeps the counts from then on. Both databases."""

from __future__ import annotations

from sqlalchemy import select

from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.store import migrate
from tnrwatch.store.models import ReportHourCount

from ..services.test_reports import make_officer, send_report


def counts(node: Node) -> dict[str, int]:
    with node.store.reading() as session:
        rows = session.execute(select(ReportHourCount.jurisdiction_code, ReportHourCount.count)).all()
    found: dict[str, int] = dict(rows)
    return found


def test_the_upgrade_counts_stored_reports_and_the_intake_counts_on(node: Node) -> None:
    intake = Intake(node)
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    for jurisdiction in ("DE", "DE", "FR"):
        send_report(intake, jurisdiction)
    assert counts(node) == {"DE": 2, "FR": 1}
    migrate.downgrade(node.store, "0010")
    migrate.upgrade(node.store)
    assert counts(node) == {"DE": 2, "FR": 1}
    send_report(intake, "FR")
    assert counts(node) == {"DE": 2, "FR": 2}
