"""/api/v1/notices over HTTP: the liaison posts a notice in Interpol's field names, lists it without its subject,
reads it (recorded) and decides it; other roles are refused; errors name the field. Both databases."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from tnrwatch.services import accounts
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"


def token_for(
    node: Node, username: str, role: str, jurisdiction: str | None = None, scope: str = "write"
) -> dict[str, str]:
    accounts.add_account(node, Principal.operator(), username, role, jurisdiction=jurisdiction)
    token = accounts.create_token(node, Principal.operator(), username, scope=scope).token
    return {"Authorization": f"Bearer {token}"}


def test_a_liaison_enters_reads_and_decides_an_interpol_notice(client: TestClient, node: Node) -> None:
    liaison = token_for(node, "lena", "liaison")
    interpol = json.loads((EXAMPLES / "red_notices.json").read_text())["_embedded"]["notices"][0]
    created = client.post("/api/v1/notices", json=interpol, headers=liaison)
    assert created.status_code == 201, created.text
    notice = created.json()
    assert (notice["notice_type"], notice["interpol_reference"], notice["requesting_state"]) == (
        "red_notice", "2025/31842", "UZ",
    )  # fmt: skip
    assert notice["subject"]["date_of_birth"] == "1986-03-14"
    assert notice["subject"]["sex"] == "F"

    listed = client.get("/api/v1/notices?requesting_state=uz&decision=none", headers=liaison)
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()] == [notice["id"]]
    assert "subject" not in listed.json()[0]
    assert "RAKHIMOVA" not in listed.text
    assert client.get("/api/v1/notices?colour=red", headers=liaison).status_code == 422

    url = f"/api/v1/notices/{notice['id']}"
    read = client.get(url, headers=liaison)
    assert read.json()["subject"]["name"] == "RAKHIMOVA"
    with node.store.reading() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_uuid == uuid.UUID(read.json()["id"]))
        ).all()
    assert "read-subject" in actions

    decided = client.post(
        f"{url}/decision", json={"decision": "consult_focal_point", "reasons": "Possible HRD."}, headers=liaison
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["decision"], decided.json()["decided_by"]) == ("consult_focal_point", "lena")
    assert client.post(f"{url}/decision", json={"decision": "arrest"}, headers=liaison).status_code == 422
    assert client.get("/api/v1/notices/00000000-0000-4000-8000-000000000000", headers=liaison).status_code == 404
    assert client.post("/api/v1/notices", json=interpol, headers=liaison).status_code == 409


def test_other_roles_are_refused_and_errors_name_the_field(client: TestClient, node: Node) -> None:
    liaison = token_for(node, "lena", "liaison")
    officer = token_for(node, "olga", "officer", "DE")
    analyst = token_for(node, "ana", "analyst")
    for headers in (officer, analyst):
        assert client.get("/api/v1/notices", headers=headers).status_code == 403
        assert client.post("/api/v1/notices", json={}, headers=headers).status_code == 403
    assert client.get("/api/v1/notices").status_code == 401
    bad = client.post(
        "/api/v1/notices",
        json={"notice_type": "red_notice", "entity_id": "2025/1", "name": "X", "date_of_birth": "1980-02-30"},
        headers=liaison,
    )
    assert bad.status_code == 422
    body = bad.json()
    assert body["ok"] is False
    fields = {".".join(str(part) for part in error["loc"][-1:]) for error in body["errors"]}
    assert {"entity_id", "date_of_birth", "requesting_state"} <= fields
