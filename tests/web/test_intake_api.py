"""The intake API over HTTP: bad input gets a generic answer for the reporter, the precise reason in the debug log,
and nothing partial is stored. Both databases."""

from __future__ import annotations

import base64
import logging
import os
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tnrwatch.crypto import pow
from tnrwatch.services.node import Node
from tnrwatch.store.models import Report, ReportKey, SpentChallenge, Upload
from tnrwatch.web.public.answers import GENERIC

from . import sealed
from .conftest import _add_recipient_key
from .sealed import b64, solved_proof


def solved(client: TestClient) -> dict[str, Any]:
    return solved_proof(client.get("/report/api/challenge").json()["token"])


def sealed_report(client: TestClient, jurisdiction: str = "DE") -> dict[str, Any]:
    keys = client.get(f"/report/api/jurisdictions/{jurisdiction}").json()["keys"]
    recipients = [(key["id"], base64.b64decode(key["public_key"])) for key in keys]
    return sealed.sealed_report(recipients, solved(client), jurisdiction)


def stored(node: Node) -> tuple[int, int, int]:
    with node.store.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Report)) or 0,
            session.scalar(select(func.count()).select_from(ReportKey)) or 0,
            session.scalar(select(func.count()).select_from(Upload)) or 0,
        )


@pytest.fixture
def keyed(node: Node) -> None:
    _add_recipient_key(node, "DE")


def assert_generic(response: Any, status: int) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error"] == GENERIC[status][1]
    assert "errors" not in body  # no detail that helps an attacker


def test_a_sealed_report_is_acknowledged_once(client: TestClient, node: Node, keyed: None) -> None:
    body = sealed_report(client)
    first = client.post("/report/api/reports", json=body)
    assert first.status_code == 201
    assert first.json()["acknowledge_by"]
    assert stored(node) == (1, 1, 0)
    replay = client.post("/report/api/reports", json={**body, "pow": solved(client)})
    assert_generic(replay, 409)
    assert stored(node) == (1, 1, 0)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b: {**b, "answers": b64(b"short")}, "malformed"),
        (lambda b: {**b, "answers": "not base64!"}, "problems in the request"),
        (lambda b: {**b, "lookup": b64(os.urandom(5))}, "lookup token"),
        (lambda b: {**b, "reporter_key": b64(os.urandom(40))}, "malformed"),
        (
            lambda b: {**b, "pow": {"token": b["pow"]["token"], "counter": pow.failing_counter(b["pow"]["token"])}},
            "proof of work",
        ),
        (lambda b: {**b, "attachments": [str(uuid.uuid4())]}, "not uploaded"),
        (lambda b: {**b, "unexpected": 1}, "problems in the request"),
        (lambda b: {k: v for k, v in b.items() if k != "keys"}, "problems in the request"),
    ],
)
def test_malformed_envelopes_are_refused_generically_and_store_nothing(
    client: TestClient, node: Node, keyed: None, caplog: pytest.LogCaptureFixture, change: Any, reason: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="tnrwatch.web.public")
    response = client.post("/report/api/reports", json=change(sealed_report(client)))
    assert_generic(response, 422)
    assert reason in caplog.text  # the precise reason, for the test log only
    assert stored(node)[:2] == (0, 0)


def test_wrong_content_types_and_unknown_jurisdictions(client: TestClient, node: Node, keyed: None) -> None:
    text = client.post("/report/api/reports", content=b"report=1", headers={"content-type": "text/plain"})
    assert_generic(text, 422)
    form = client.post("/report/api/reports", data={"report": "1"})
    assert_generic(form, 422)
    assert_generic(client.get("/report/api/jurisdictions/XX"), 404)
    no_key = client.get("/report/api/jurisdictions/FR")
    assert_generic(no_key, 409)
    body = {**sealed_report(client), "jurisdiction": "XX"}
    assert client.post("/report/api/reports", json=body).status_code in (404, 409)
    assert stored(node) == (0, 0, 0)


def test_keys_changed_is_told_so_that_the_browser_reseals(client: TestClient, node: Node, keyed: None) -> None:
    body = sealed_report(client)
    _add_recipient_key(node, "DE")  # a second officer's key arrives while the reporter writes
    response = client.post("/report/api/reports", json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "keys_changed"
    assert client.post("/report/api/reports", json=sealed_report(client)).status_code == 201


def test_uploads_resume_refuse_replays_and_oversize(client: TestClient, node: Node, keyed: None) -> None:
    report_id, attachment_id = str(uuid.uuid4()), str(uuid.uuid4())
    start = {"report_id": report_id, "attachment_id": attachment_id, "size": 100, "pow": solved(client)}
    assert client.post("/report/api/uploads", json=start).status_code == 201
    assert_generic(client.post("/report/api/uploads", json={**start, "pow": solved(client)}), 409)
    octet = {"content-type": "application/octet-stream"}
    url = f"/report/api/uploads/{attachment_id}"
    assert client.put(f"{url}?offset=0", content=b"a" * 60, headers=octet).json() == {"received": 60}
    replayed = client.put(f"{url}?offset=0", content=b"a" * 60, headers=octet)
    assert replayed.status_code == 409
    assert replayed.json()["code"] == "upload_offset"
    assert replayed.json()["received"] == 60
    assert client.get(url).json() == {"received": 60, "size": 100}
    assert_generic(client.put(f"{url}?offset=60", content=b"b" * 41, headers=octet), 422)
    assert client.put(f"{url}?offset=60", content=b"b" * 40, headers=octet).json() == {"received": 100}
    huge = {**start, "attachment_id": str(uuid.uuid4()), "size": 10**12, "pow": solved(client)}
    assert_generic(client.post("/report/api/uploads", json=huge), 413)
    assert_generic(client.get(f"/report/api/uploads/{uuid.uuid4()}"), 404)


def test_spent_challenges_are_kept_to_the_hour(client: TestClient, node: Node, keyed: None) -> None:
    assert client.post("/report/api/reports", json=sealed_report(client)).status_code == 201
    with node.store.reading() as session:
        (expires,) = session.scalars(select(SpentChallenge.expires_at)).all()
    assert (expires.minute, expires.second, expires.microsecond) == (0, 0, 0)


def test_follow_up_with_a_wrong_receipt_is_generic(client: TestClient, keyed: None) -> None:
    response = client.post("/follow-up/api/thread", json={"lookup": b64(os.urandom(32))})
    assert_generic(response, 404)
    assert_generic(client.post("/follow-up/api/thread", json={"lookup": "x"}), 422)
