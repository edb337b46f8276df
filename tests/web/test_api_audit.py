"""GET /api/v1/audit: auditors read the log, newest first and paged; roles that work cases may not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services.node import Node

from .conftest import token_for


def test_auditors_read_the_log_and_officers_may_not(client: TestClient, node: Node) -> None:
    auditor = token_for(node, "audra", "auditor")
    officer = token_for(node, "olga", "officer")

    response = client.get("/api/v1/audit", params={"limit": 2}, headers=auditor)
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 2
    assert {"username", "role", "action", "entity", "hash"} <= set(body["items"][0])
    older = client.get("/api/v1/audit", params={"before": body["next_before"]}, headers=auditor).json()
    assert all(item["id"] < ids[-1] for item in older["items"])

    assert client.get("/api/v1/audit", headers=officer).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
