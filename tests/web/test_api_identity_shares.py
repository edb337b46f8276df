"""Identity shares over HTTP: the owning focal point grants, the receiving one reads the identity, either revokes;
bad grants are refused field by field. Both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services.node import Node

from .test_api_alerts import token_for


def test_grant_read_revoke(client: TestClient, node: Node) -> None:
    german = token_for(node, "olga", "officer", "DE")
    french = token_for(node, "fabien", "officer", "FR")
    person = client.post(
        "/api/v1/persons",
        json={"consent_to_share": True, "identity": {"full_name": "Dilnoza Example"}},
        headers=german,
    ).json()
    identity_url = f"/api/v1/persons/{person['id']}?include_identity=true"
    assert client.get(identity_url, headers=french).status_code == 404

    bad = client.post(
        f"/api/v1/persons/{person['id']}/identity-shares",
        json={"to_jurisdiction": "FR", "consent": "", "purpose": "relocation"},
        headers=german,
    )
    assert bad.status_code == 422
    assert [error["loc"][-1] for error in bad.json()["errors"]] == ["consent"]

    granted = client.post(
        f"/api/v1/persons/{person['id']}/identity-shares",
        json={"to_jurisdiction": "fr", "consent": "in person, case 14", "purpose": "relocation"},
        headers=german,
    )
    assert granted.status_code == 201, granted.text
    assert client.get(identity_url, headers=french).json()["identity"]["full_name"] == "Dilnoza Example"
    assert len(client.get(f"/api/v1/persons/{person['id']}/identity-shares", headers=french).json()) == 1

    revoked = client.post(f"/api/v1/identity-shares/{granted.json()['id']}/revoke", headers=french)
    assert revoked.json()["active"] is False
    assert client.get(identity_url, headers=french).status_code == 404
