"""Case work: moves recorded with who and when, illegal moves refused, the inbox's order and counts, and no
cross-jurisdiction access. Both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from tnrwatch.crypto import envelope
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import accounts, cases, report_reader
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.store.models import Report
from tnrwatch.store.types import utcnow

from .test_reports import CANARY, accounts_id, make_officer, send_report


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def test_a_case_moves_along_its_path_and_every_move_is_kept(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    path = ["acknowledged", "triaged", "under_verification", "verified", "referred", "closed"]
    for target in path:
        assert cases.move(node, officer.principal, report_id, target) == target
    events = cases.history(node, officer.principal, report_id)
    assert [(e.from_status, e.to_status) for e in events] == list(zip(["received", *path], path, strict=False))
    assert {e.username for e in events} == {"olga"}
    with node.store.reading() as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == "closed"
        assert report.acknowledged_at is not None
        assert report.first_action_at == report.acknowledged_at  # acknowledging was the first action


def test_an_illegal_move_is_refused_and_changes_nothing(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE").report_id
    with pytest.raises(ConflictError, match="it can become: acknowledged"):
        cases.move(node, officer.principal, report_id, "verified")
    assert cases.history(node, officer.principal, report_id) == []


def test_another_jurisdiction_cannot_see_or_move_the_case(node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    french = make_officer(node, "fabien", "FR")
    report_id = send_report(intake, "DE").report_id
    with pytest.raises(NotFoundError):
        cases.move(node, french.principal, report_id, "acknowledged")
    with pytest.raises(NotFoundError):
        cases.history(node, french.principal, report_id)
    assert cases.inbox(node, french.principal).total == 0
    accounts.add_account(node, Principal.operator(), "ana", "analyst")
    analyst = Principal(accounts_id(node, "ana"), "ana", "analyst")
    with pytest.raises(ForbiddenError):
        cases.move(node, analyst, report_id, "acknowledged")


def test_the_inbox_puts_urgent_first_and_counts_overdue(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    calm = send_report(intake, "DE").report_id
    late = send_report(intake, "DE").report_id
    urgent = send_report(intake, "DE", urgent=True).report_id
    with node.store.writing() as session:  # the late one's deadline passed
        session.execute(update(Report).where(Report.id == late).values(acknowledge_by=utcnow() - dt.timedelta(days=1)))
    box = cases.inbox(node, officer.principal)
    assert [item.id for item in box.items] == [urgent, late, calm]
    assert [item.overdue for item in box.items] == [False, True, False]
    assert (box.total, box.overdue, box.urgent_open) == (3, 1, 1)

    cases.move(node, officer.principal, late, "acknowledged")  # acknowledged late: no longer overdue
    box = cases.inbox(node, officer.principal)
    assert box.overdue == 0
    assert cases.inbox(node, officer.principal, status="acknowledged").total == 1
    assert cases.inbox(node, officer.principal, urgent=True).total == 1
    page = cases.inbox(node, officer.principal, limit=2, offset=2)
    assert (len(page.items), page.total) == (1, 3)


def test_referrals_are_recorded_and_move_the_case_when_its_state_allows(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    report_id = send_report(intake, "DE", urgent=True).report_id
    police = cases.refer(node, officer.principal, report_id, "police")  # urgent: before verification
    assert (police.kind, police.to_jurisdiction, police.username) == ("police", None, "olga")
    assert cases.inbox(node, officer.principal).items[0].status == "received"  # no move from "received"
    for target in ("acknowledged", "triaged", "under_verification", "unsubstantiated"):
        cases.move(node, officer.principal, report_id, target)
    cases.refer(node, officer.principal, report_id, "legal_aid")
    assert [e.to_status for e in cases.history(node, officer.principal, report_id)][-1] == "referred"
    assert [r.kind for r in cases.referrals(node, officer.principal, report_id)] == ["police", "legal_aid"]
    with pytest.raises(InvalidInputError):
        cases.refer(node, officer.principal, report_id, "press")
    with pytest.raises(InvalidInputError):
        cases.refer(node, officer.principal, report_id, "police", to_jurisdiction="FR")
    cases.move(node, officer.principal, report_id, "closed")
    with pytest.raises(ConflictError, match="closed"):
        cases.refer(node, officer.principal, report_id, "police")


def test_a_referral_to_another_focal_point_lets_it_read_the_report(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    fabien = make_officer(node, "fabien", "FR")
    sent = send_report(intake, "DE")
    with pytest.raises(NotFoundError):
        intake.officer_thread(fabien.principal, sent.report_id)

    # Olga's side (her browser, or `tnrwatch` with her key file): open the report key, seal it to France's keys.
    thread, key = intake.officer_thread(olga.principal, sent.report_id)
    assert key is not None
    report_key = envelope.open_report_key(thread.sealed_key, olga.private_key, sent.report_id, str(key.id))
    french_keys = intake.recipients("FR")
    sealed = [
        SealedKey(k.id, envelope.seal_report_key(report_key, k.public_key, sent.report_id, str(k.id)))
        for k in french_keys
    ]
    with pytest.raises(ConflictError, match="each active key"):
        cases.refer(node, olga.principal, sent.report_id, "focal_point", to_jurisdiction="FR", sealed_keys=[])
    with pytest.raises(InvalidInputError):
        cases.refer(node, olga.principal, sent.report_id, "focal_point", to_jurisdiction="DE", sealed_keys=sealed)
    cases.refer(node, olga.principal, sent.report_id, "focal_point", to_jurisdiction="FR", sealed_keys=sealed)

    box = cases.inbox(node, fabien.principal)
    assert [(item.id, item.jurisdiction) for item in box.items] == [(sent.report_id, "DE")]
    assert [r.to_jurisdiction for r in cases.referrals(node, fabien.principal, sent.report_id)] == ["FR"]
    with pytest.raises(NotFoundError):  # the case stays with Germany
        cases.move(node, fabien.principal, sent.report_id, "acknowledged")
    french_thread, french_key = intake.officer_thread(fabien.principal, sent.report_id)
    assert french_key is not None
    assert report_reader.decrypt_thread(french_thread, fabien.private_key).answers["what"]["description"] == CANARY


def make_supervisor(node: Node, username: str, jurisdiction: str) -> Principal:
    accounts.add_account(node, Principal.operator(), username, "supervisor", jurisdiction=jurisdiction)
    return Principal(accounts_id(node, username), username, "supervisor", jurisdiction)


def test_officers_take_cases_and_supervisors_give_them(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    make_officer(node, "otto", "DE")
    make_officer(node, "fabien", "FR")
    sven = make_supervisor(node, "sven", "DE")
    first = send_report(intake, "DE").report_id
    second = send_report(intake, "DE", urgent=True).report_id

    cases.assign(node, olga.principal, first, "olga")
    with pytest.raises(ForbiddenError):
        cases.assign(node, olga.principal, second, "otto")
    with pytest.raises(InvalidInputError):
        cases.assign(node, sven, second, "fabien")  # another jurisdiction's officer
    cases.assign(node, sven, second, "otto")
    assert [item.id for item in cases.inbox(node, olga.principal, mine=True).items] == [first]

    with pytest.raises(ForbiddenError):
        cases.dashboard(node, olga.principal)
    board = cases.dashboard(node, sven)
    assert board.by_status["received"] == 2
    assert (board.urgent_open, board.urgent_waiting, board.unassigned_open) == (1, (second,), 0)
    assert {load.username: (load.open_cases, load.urgent_open) for load in board.officers} == {
        "olga": (1, 0),
        "otto": (1, 1),
        "sven": (0, 0),
    }
    cases.move(node, sven, second, "acknowledged")  # the urgent case is acted on
    board = cases.dashboard(node, sven)
    assert board.urgent_waiting == ()
    assert len(board.urgent_first_action_hours) == 1
    assert 0 <= board.urgent_first_action_hours[0] <= 1.0  # received_at is the hour it arrived in
