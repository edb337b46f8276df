"""Case work in the officers' zone: the inbox's filters and counts, moving a case by form (and the refusal of an
illegal move, in words), taking and giving cases, referrals, sharing with another focal point, and the supervisor's
dashboard. Both databases."""

from __future__ import annotations

import base64
import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from tnrwatch.crypto import envelope
from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.store.models import Report

from .test_staff_pages import (
    OPERATOR,
    PASSWORD,
    TOTP_SECRETS,
    client,
    csrf_of,
    intake,
    make_officer,
    settings,
    submit_report,
)
from .test_staff_pages import sign_in as staff_sign_in

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def sign_in(client: TestClient, username: str) -> None:
    assert staff_sign_in(client, username).status_code == 303


def make_supervisor(node: Node, username: str, jurisdiction: str) -> None:
    accounts.add_account(node, OPERATOR, username, "supervisor", jurisdiction=jurisdiction)
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret


def words(client: TestClient, path: str) -> str:
    """The page's text with runs of white space made one space, as a reader sees it."""
    return " ".join(client.get(path).text.split())


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found
    return found.group(1)


def test_the_inbox_filters_pages_and_counts(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sent = [submit_report(intake, "DE") for _ in range(3)]
    with node.store.writing() as session:
        late = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        session.execute(update(Report).where(Report.id == sent[0].id).values(acknowledge_by=late))
    sign_in(client, "olga")
    page = client.get("/app/reports").text
    assert "1 overdue" in page
    assert "3 reports" in page
    only_overdue = client.get("/app/reports?overdue=1").text
    assert str(sent[0].id)[:8] in only_overdue
    assert str(sent[1].id)[:8] not in only_overdue
    assert "No report matches these filters." in client.get("/app/reports?status=closed").text
    assert client.get("/app/reports?status=nonsense").status_code == 422
    assert client.get("/app/reports?page=0").status_code == 422


def test_an_officer_moves_a_case_and_an_illegal_move_is_explained(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    sign_in(client, "olga")
    path = f"/app/reports/{report.id}"
    token = form_token(client, path)
    assert 'value="acknowledged"' in client.get(path).text  # the one move possible, as a button

    moved = client.post(f"{path}/status", data={"csrf_token": token, "status": "acknowledged"}, follow_redirects=False)
    assert moved.status_code == 303
    page = words(client, path)
    assert "Status: <strong>Acknowledged</strong>" in page
    assert "received → <strong>acknowledged</strong>, by olga" in page

    refused = client.post(f"{path}/status", data={"csrf_token": token, "status": "closed"})
    assert refused.status_code == 409
    assert "cannot become closed; it can become: triaged" in refused.text
    assert client.post(f"{path}/status", data={"status": "triaged"}).status_code == 403  # no CSRF token

    taken = client.post(f"{path}/assign", data={"csrf_token": token, "username": "olga"}, follow_redirects=False)
    assert taken.status_code == 303
    assert "Assigned to: <strong>olga</strong>" in words(client, path)
    referred = client.post(f"{path}/referrals", data={"csrf_token": token, "kind": "legal_aid"}, follow_redirects=False)
    assert referred.status_code == 303
    assert "legal aid, by olga" in words(client, path)


def test_another_member_state_cannot_reach_the_case_by_any_page(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    report = submit_report(intake, "DE")
    sign_in(client, "fabien")
    path = f"/app/reports/{report.id}"
    token = csrf_of(client.get("/app/keys"))
    assert client.get(path).status_code == 404
    for action, data in (
        ("status", {"status": "acknowledged"}),
        ("assign", {"username": "fabien"}),
        ("referrals", {"kind": "police"}),
    ):
        assert client.post(f"{path}/{action}", data={"csrf_token": token, **data}).status_code == 404
    assert str(report.id)[:8] not in client.get("/app/reports").text


def test_sharing_with_another_focal_point_lets_its_officer_read(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    report = submit_report(intake, "DE")
    sign_in(client, "olga")
    token = csrf_of(client.get(f"/app/reports/{report.id}"))
    keys = client.get("/report/api/jurisdictions/FR").json()["keys"]
    sealed = [
        {
            "recipient": key["id"],
            "sealed": base64.b64encode(
                envelope.seal_report_key(report.key, base64.b64decode(key["public_key"]), report.id, key["id"])
            ).decode(),
        }
        for key in keys
    ]
    shared = client.post(
        f"/app/api/reports/{report.id}/referrals",
        json={"to_jurisdiction": "FR", "sealed_keys": sealed},
        headers={"X-CSRF-Token": token},
    )
    assert shared.status_code == 201
    client.cookies.clear()
    sign_in(client, "fabien")
    assert "referred by DE" in client.get("/app/reports").text
    page = client.get(f"/app/reports/{report.id}")
    assert page.status_code == 200
    assert "referred to your focal point by DE" in " ".join(page.text.split())
    data = client.get(f"/app/api/reports/{report.id}").json()
    assert data["key"] is not None  # fabien's key holds a copy now


def test_the_dashboard_is_the_supervisors(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_supervisor(node, "sven", "DE")
    submit_report(intake, "DE")
    sign_in(client, "olga")
    assert client.get("/app/dashboard").status_code == 403
    client.cookies.clear()
    sign_in(client, "sven")
    page = client.get("/app/dashboard")
    assert page.status_code == 200
    assert "Cases by status" in page.text
    assert 'href="/app/dashboard" aria-current="page"' in page.text
