"""A shredded report in the officers' zone: the page says when its content was shredded and offers no unlock; the
report's JSON holds no ciphertext and no key. Both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services import retention
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake

from .test_case_pages import sign_in, words
from .test_staff_pages import OPERATOR, client, intake, make_officer, settings, submit_report

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def test_a_shredded_report_shows_its_case_and_no_content(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sent = submit_report(intake, "DE", files={"letter.txt": b"the letter"})
    sign_in(client, "olga")
    before = words(client, f"/app/reports/{sent.id}")
    assert "Unlock and read" in before
    assert retention.shred_reports(node, OPERATOR, [sent.id]) == [sent.id]
    after = words(client, f"/app/reports/{sent.id}")
    assert "Its content was shredded on" in after
    assert "Unlock and read" not in after
    assert "What the server knows" in after  # the case stays
    data = client.get(f"/app/api/reports/{sent.id}").json()
    assert data["answers"] == ""
    assert data["sealed_key"] is None
    assert data["attachments"] == []
