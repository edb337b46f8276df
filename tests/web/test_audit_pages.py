"""The auditor's page: every step of a case in the log, filters, paging, and the chain check naming the row a direct
database edit broke. Both databases."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from tnrwatch.services import accounts, cases, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake

from ..services.test_reports import accounts_id
from .test_case_pages import sign_in
from .test_case_pages import words as page_words
from .test_staff_pages import OPERATOR, PASSWORD, TOTP_SECRETS, client, intake, make_officer, settings, submit_report

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def words(client: TestClient, path: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities read, white space made one space."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page_words(client, path))).split())


def make_auditor(node: Node, username: str) -> None:
    accounts.add_account(node, OPERATOR, username, "auditor")
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret


def test_the_auditor_sees_every_step_filters_and_checks_the_chain(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    make_auditor(node, "audrey")
    sent = submit_report(intake, "DE")
    olga = Principal(accounts_id(node, "olga"), "olga", "officer", "DE")
    for target in ("acknowledged", "triaged", "closed"):
        cases.move(node, olga, sent.id, target)
    intake.officer_thread(olga, sent.id)  # a read of the ciphertext

    sign_in(client, "audrey")
    page = words(client, "/app/audit")
    assert "Audit log" in page
    assert "received -> acknowledged" in page
    assert "acknowledged -> triaged" in page
    assert "triaged -> closed" in page
    assert "olga officer, DE" in page

    about = words(client, f"/app/audit?record={sent.id}")
    assert about.count("olga officer, DE") == 4  # three moves and one read
    reads = words(client, f"/app/audit?record={sent.id}&action=read")
    assert reads.count("olga officer, DE") == 1
    assert "No entry matches." in words(client, "/app/audit?username=nobody")
    bad = client.get("/app/audit?record=not-an-id")
    assert bad.status_code == 422
    assert "not a record id" in bad.text

    checked = words(client, "/app/audit?check=1")
    assert "✓ The chain holds:" in checked
    with node.store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET action = 'create' WHERE id = 2"))
    broken = words(client, "/app/audit?check=1")
    assert "✗ The chain is broken." in broken
    assert "row 2 was modified" in broken


def test_the_log_pages_back_through_older_entries(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_auditor(node, "audrey")
    olga = Principal(accounts_id(node, "olga"), "olga", "officer", "DE")
    for _ in range(60):
        intake.officer_thread(olga, submit_report(intake, "DE").id)
    sign_in(client, "audrey")
    first = client.get("/app/audit?action=read")
    assert first.text.count('<th scope="row" class="staff-number">') == 50
    assert "Older entries" in first.text
    older = client.get("/app/audit?action=read&before=" + first.text.split("before=")[1].split('"')[0])
    assert older.text.count('<th scope="row" class="staff-number">') == 10
    assert "Older entries" not in older.text
