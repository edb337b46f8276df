"""A token's scope, enforced by the API: "read" may only GET (and HEAD, where a route has it); "write" may what the
role may."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services import accounts
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data


def bearer(node: Node, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(node, Principal.operator(), 'ana', scope=scope).token}"}


def test_a_read_token_reads_but_never_writes(client: TestClient, node: Node) -> None:
    accounts.add_account(node, Principal.operator(), "ana", "analyst")
    read, write = bearer(node, "read"), bearer(node, "write")
    created = client.post("/api/v1/incidents", json=incident_data(), headers=write)
    assert created.status_code == 201, created.text
    url = f"/api/v1/incidents/{created.json()['id']}"

    assert client.get(url, headers=read).status_code == 200
    assert client.get("/api/v1/incidents", headers=read).status_code == 200
    refusals = [
        client.post("/api/v1/incidents", json=incident_data(), headers=read),
        client.patch(url, json={"tlp": "red"}, headers={**read, "If-Match": created.headers["etag"]}),
        client.post("/api/v1/actors", json={}, headers=read),  # refused before the body is looked at
    ]
    for refused in refusals:
        assert refused.status_code == 403
        body = refused.json()
        assert body["ok"] is False
        assert "scope 'read'" in body["error"]
        assert "--scope write" in body["error"]
    assert client.get(url, headers=read).json()["tlp"] == created.json()["tlp"]
