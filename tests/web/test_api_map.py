"""GET /api/v1/map over HTTP: the shape of the answer, the incident filters, and errors named by parameter."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services import accounts, incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data


def token_for(node: Node, role: str = "analyst") -> dict[str, str]:
    accounts.add_account(node, Principal.operator(), "ana", role)
    return {"Authorization": f"Bearer {accounts.create_token(node, Principal.operator(), 'ana').token}"}


def test_the_map_answers_for_a_filter(client: TestClient, node: Node) -> None:
    headers = token_for(node)
    for origin, host in (("CN", "DE"), ("CN", "FR"), ("RU", "DE")):
        located = [{"country": host, "geo_precision": "country"}]
        incidents.create_incident(
            node, Principal.operator(), incident_data(origin_countries=[origin], locations=located)
        )
    answer = client.get("/api/v1/map?origin=CN&facets=verification", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 2
    assert {(h["country"], h["count"]) for h in body["hosts"]} == {("DE", 1), ("FR", 1)}
    assert body["origins"] == [{"country": "CN", "label": "China", "count": 2}]
    assert {(f["origin"], f["host"], f["count"]) for f in body["flows"]} == {("CN", "DE", 1), ("CN", "FR", 1)}
    assert body["timeline"] == [{"month": "2021-03", "tactic_family": "physical", "count": 2}]
    assert body["facets"] == {"verification": [{"value": "corroborated", "label": "Corroborated", "count": 2}]}


def test_bad_parameters_are_named(client: TestClient, node: Node) -> None:
    headers = token_for(node)
    unknown = client.get("/api/v1/map?colour=red", headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["query", "colour"]
    facet = client.get("/api/v1/map?facets=colour", headers=headers)
    assert facet.status_code == 422
    assert facet.json()["errors"][0]["loc"] == ["facets"]
    assert client.get("/api/v1/map").status_code == 401
