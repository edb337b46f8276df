"""Notifications: an urgent report (browser or plain form) tells every active supervisor of its jurisdiction and no
one else, in the intake's own transaction and with the report's hour as its time; a referral to a focal point tells
its supervisors; an overdue acknowledgement is announced once per report, however often the job runs; the list, the
unread count and "mark all read". No notification carries content. Both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import inspect, select, update

from tnrwatch.crypto import envelope
from tnrwatch.services import accounts, cases, notifications, plain_reports
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.store.models import Account, Notification, Report

from .test_reports import accounts_id, make_officer, send_report


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def supervisor(node: Node, username: str, jurisdiction: str) -> Principal:
    accounts.add_account(node, Principal.operator(), username, "supervisor", jurisdiction=jurisdiction)
    return Principal(accounts_id(node, username), username, "supervisor", jurisdiction)


def kinds(node: Node, principal: Principal) -> list[tuple[str, uuid.UUID]]:
    return [(n.kind, n.report_id) for n in notifications.list_notifications(node, principal)]


def test_an_urgent_report_tells_its_supervisors_and_no_one_else(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    sabine, stefan = supervisor(node, "sabine", "DE"), supervisor(node, "stefan", "DE")
    retired = supervisor(node, "rita", "DE")
    with node.store.writing() as session:
        session.execute(update(Account).where(Account.username == "rita").values(disabled=True))
    french_boss = supervisor(node, "francoise", "FR")

    calm = send_report(intake, "DE")
    urgent = send_report(intake, "DE", urgent=True)
    assert kinds(node, sabine) == kinds(node, stefan) == [("urgent", urgent.report_id)]
    for nobody in (olga.principal, retired, french_boss):
        assert kinds(node, nobody) == []
    with node.store.reading() as session:
        report = session.get(Report, urgent.report_id)
        rows = session.scalars(select(Notification)).all()
    assert report is not None
    assert {row.created_at for row in rows} == {report.received_at}  # the hour, not the second it arrived
    assert calm.report_id not in {row.report_id for row in rows}


def test_an_urgent_report_through_the_plain_form_tells_them_too(node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sabine = supervisor(node, "sabine", "DE")
    document = {"v": 1, "kind": "report", "what": {"description": "x"}}
    plain_reports.PlainReport(intake, "DE").finish(document, [], urgent=False)
    assert kinds(node, sabine) == []
    plain_reports.PlainReport(intake, "DE").finish(document, [], urgent=True)
    ((kind, report_id),) = kinds(node, sabine)
    with node.store.reading() as session:
        report = session.get(Report, report_id)
    assert report is not None
    assert (kind, report.mode, report.urgent) == ("urgent", "plain", True)


def test_a_group_of_reports_notifies_only_for_its_urgent_ones(node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    sabine, francoise = supervisor(node, "sabine", "DE"), supervisor(node, "francoise", "FR")
    sent = [send_report(intake, code, urgent=code == "FR") for code in ("DE", "FR", "DE", "FR")]
    assert kinds(node, sabine) == []
    assert sorted(r for _, r in kinds(node, francoise)) == sorted([sent[1].report_id, sent[3].report_id])


def test_a_referral_to_a_focal_point_tells_its_supervisors(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    fabien = make_officer(node, "fabien", "FR")
    francoise, sabine = supervisor(node, "francoise", "FR"), supervisor(node, "sabine", "DE")
    sent = send_report(intake, "DE")
    cases.refer(node, olga.principal, sent.report_id, "police")
    assert kinds(node, francoise) == []
    key = SealedKey(
        fabien.key_id, envelope.seal_report_key(sent.report_key, fabien.public_key, sent.report_id, str(fabien.key_id))
    )
    cases.refer(node, olga.principal, sent.report_id, "focal_point", to_jurisdiction="FR", sealed_keys=[key])
    assert kinds(node, francoise) == [("referral", sent.report_id)]
    assert kinds(node, fabien.principal) == kinds(node, sabine) == []


def test_notify_overdue_announces_each_late_report_once(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    sabine = supervisor(node, "sabine", "DE")
    late, acknowledged, on_time = (send_report(intake, "DE") for _ in range(3))
    cases.move(node, olga.principal, acknowledged.report_id, "acknowledged")
    with node.store.writing() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        ids = [late.report_id, acknowledged.report_id]
        session.execute(update(Report).where(Report.id.in_(ids)).values(acknowledge_by=past))
    now = dt.datetime.now(dt.UTC)
    assert notifications.notify_overdue(node, now) == 1
    assert notifications.notify_overdue(node, now) == 0
    assert notifications.notify_overdue(node, now + dt.timedelta(hours=1)) == 0
    assert kinds(node, sabine) == [("overdue", late.report_id)]
    stefan = supervisor(node, "stefan", "DE")  # joins while the report is still late: hears of it once
    assert notifications.notify_overdue(node, now) == 1
    assert notifications.notify_overdue(node, now) == 0
    assert kinds(node, stefan) == [("overdue", late.report_id)]
    # Eight days on, the one on time is late too.
    assert notifications.notify_overdue(node, now + dt.timedelta(days=8)) == 2
    assert [r for _, r in kinds(node, sabine)] == [on_time.report_id, late.report_id]  # newest first


def test_unread_count_and_mark_all_read(node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sabine, stefan = supervisor(node, "sabine", "DE"), supervisor(node, "stefan", "DE")
    for _ in range(3):
        send_report(intake, "DE", urgent=True)
    assert notifications.unread_count(node, sabine) == 3
    assert notifications.mark_all_read(node, sabine) == 3
    assert notifications.unread_count(node, sabine) == 0
    assert all(n.read_at is not None for n in notifications.list_notifications(node, sabine))
    assert notifications.unread_count(node, stefan) == 3  # each account reads its own
    assert notifications.unread_count(node, Principal.operator()) == 0
    assert len(notifications.list_notifications(node, sabine, limit=2)) == 2


def test_a_notification_has_no_place_for_content() -> None:
    columns = {column.key for column in inspect(Notification).columns}
    assert columns == {"id", "account_id", "kind", "report_id", "created_at", "read_at"}
