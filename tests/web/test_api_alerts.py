"""/api/v1/alerts over HTTP: a focal point drafts and publishes, its audience reads and comments, others are told the
alert does not exist; errors are named by field. Both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tnrwatch.services import accounts, actors
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

OPERATOR = Principal.operator()


def token_for(node: Node, username: str, role: str, jurisdiction: str | None = None) -> dict[str, str]:
    accounts.add_account(node, Principal.operator(), username, role, jurisdiction=jurisdiction)
    return {"Authorization": f"Bearer {accounts.create_token(node, Principal.operator(), username).token}"}


def test_an_alert_from_draft_to_its_audience(client: TestClient, node: Node) -> None:
    german = token_for(node, "olga", "officer", "DE")
    french = token_for(node, "fabien", "officer", "FR")
    italian = token_for(node, "ines", "officer", "IT")
    body = {
        "title": "Surge of forced returns",
        "summary": "Three deportations in a week.",
        "level": "urgent",
        "tlp": "amber",
        "audience": [{"kind": "jurisdiction", "value": "FR"}],
    }
    created = client.post("/api/v1/alerts", json=body, headers=german)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert (alert["status"], alert["jurisdiction"], alert["created_by"]) == ("draft", "DE", "olga")
    url = f"/api/v1/alerts/{alert['id']}"
    assert client.get(url, headers=french).status_code == 404  # a draft: not out yet
    assert client.post(f"{url}/publish", headers=french).status_code == 404

    published = client.post(f"{url}/publish", headers=german)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert client.post(f"{url}/publish", headers=german).status_code == 409
    assert client.get(url, headers=french).json()["status"] == "published"
    assert client.get(url, headers=italian).status_code == 404  # not in the audience
    assert [a["id"] for a in client.get("/api/v1/alerts?status=published", headers=french).json()] == [alert["id"]]
    assert client.post(f"{url}/withdraw", headers=french).status_code == 403  # a recipient, not the owner

    comment = client.post(
        f"{url}/comments", json={"kind": "opinion", "opinion": "agree", "text": "Seen here too."}, headers=french
    )
    assert comment.status_code == 201, comment.text
    assert client.get(url, headers=german).json()["comments"][0]["author"] == "fabien"
    assert client.post(f"{url}/withdraw", headers=german).json()["status"] == "withdrawn"


def test_bad_alerts_are_refused_field_by_field(client: TestClient, node: Node) -> None:
    german = token_for(node, "olga", "officer", "DE")
    bad = client.post(
        "/api/v1/alerts",
        json={"title": "", "summary": "x", "level": "severe", "tlp": "amber", "audience": []},
        headers=german,
    )
    assert bad.status_code == 422
    assert {tuple(error["loc"])[-1] for error in bad.json()["errors"]} >= {"title", "level", "audience"}
    unknown = client.post(
        "/api/v1/alerts",
        json={
            "title": "t",
            "summary": "s",
            "level": "warning",
            "tlp": "green",
            "audience": [{"kind": "eu"}],
            "incident_ids": ["00000000-0000-4000-8000-000000000000"],
        },
        headers=german,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["incident_ids", 0]


def test_a_corroboration_names_the_actor_seen_and_the_country(client: TestClient, node: Node) -> None:
    german = token_for(node, "olga", "officer", "DE")
    french = token_for(node, "fabien", "officer", "FR")
    agency = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    other = actors.create_actor(node, OPERATOR, {"name": "Consulate", "actor_type": "diplomatic_mission"})
    body = {
        "title": "Agents seen",
        "summary": "Officers of the service follow dissidents.",
        "level": "warning",
        "tlp": "amber",
        "audience": [{"kind": "jurisdiction", "value": "FR"}],
        "actor_ids": [str(agency.id)],
    }
    url = f"/api/v1/alerts/{client.post('/api/v1/alerts', json=body, headers=german).json()['id']}"
    assert client.post(f"{url}/publish", headers=german).status_code == 200
    seen = {"kind": "corroboration", "text": "Two of them in Lyon.", "sighted_actor_id": str(agency.id)}

    added = client.post(f"{url}/comments", json={**seen, "sighted_country": "fr"}, headers=french)

    assert added.status_code == 201, added.text
    assert (added.json()["sighted_actor_id"], added.json()["sighted_country"]) == (str(agency.id), "FR")
    [comment] = client.get(url, headers=german).json()["comments"]
    assert (comment["sighted_actor_id"], comment["sighted_country"]) == (str(agency.id), "FR")
    for wrong, field in (
        ({**seen, "sighted_actor_id": str(other.id)}, "sighted_actor_id"),
        ({**seen, "sighted_country": "XX"}, "sighted_country"),
        ({**seen, "kind": "opinion", "opinion": "agree"}, "sighted_actor_id"),
    ):
        refused = client.post(f"{url}/comments", json=wrong, headers=french)
        assert refused.status_code == 422, refused.text
        assert [error["loc"][-1] for error in refused.json()["errors"]] == [field]
    assert len(client.get(url, headers=german).json()["comments"]) == 1
