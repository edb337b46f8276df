"""/api/v1/indicators through HTTP, on SQLite and PostgreSQL: a lab checks whether a domain was seen before."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services.node import Node

from ..factories import incident_data
from .conftest import token_for


def test_a_lab_checks_a_domain_and_gets_the_incidents_it_may_read(
    client: TestClient, node: Node, analyst: dict[str, str]
) -> None:
    domain = {"kind": "domain-name", "value": "update-check.example.com", "first_seen": "2021-03-01"}
    for day in ("2021-03-02", "2023-05-06"):
        data = incident_data(tactics=["spyware"], date_start=day, indicators=[domain])
        assert client.post("/api/v1/incidents", json=data, headers=analyst).status_code == 201

    answer = client.get("/api/v1/indicators", params={"value": "UPDATE-CHECK.example[.]com"}, headers=analyst)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["searched"] == [{"kind": "domain-name", "value": "update-check.example.com"}]
    assert [item["incident_date_start"] for item in body["items"]] == ["2023-05-06", "2021-03-02"]
    assert {item["first_seen"] for item in body["items"]} == {"2021-03-01"}
    assert body["items"][0]["incident_title"] == "Activist abducted near a bus station"
    unseen = client.get("/api/v1/indicators", params={"value": "192.0.2.99"}, headers=analyst).json()
    assert unseen == {"searched": [{"kind": "ipv4-addr", "value": "192.0.2.99"}], "items": []}
    one = client.get("/api/v1/indicators", params={"value": domain["value"], "limit": 1}, headers=analyst).json()
    assert len(one["items"]) == 1


def test_bad_lookups_name_the_parameter(client: TestClient, node: Node, analyst: dict[str, str]) -> None:
    refused = client.get("/api/v1/indicators", params={"value": "not an indicator"}, headers=analyst)
    assert refused.status_code == 422
    assert [error["loc"] for error in refused.json()["errors"]] == [["query", "value"]]
    wrong_kind = client.get("/api/v1/indicators", params={"value": "example.com", "kind": "phone"}, headers=analyst)
    assert [error["loc"] for error in wrong_kind.json()["errors"]] == [["query", "kind"]]
    assert client.get("/api/v1/indicators", headers=analyst).status_code == 422
    auditor = token_for(node, "aud", "auditor")
    assert client.get("/api/v1/indicators", params={"value": "example.com"}, headers=auditor).status_code == 403
