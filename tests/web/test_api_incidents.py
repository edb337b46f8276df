"""/api/v1/incidents end to end through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient

from tnrwatch.services.node import Node

from ..factories import incident_data
from .conftest import token_for


def test_create_read_update(client: TestClient, analyst: dict[str, str]) -> None:
    created = client.post("/api/v1/incidents", json=incident_data(), headers=analyst)
    assert created.status_code == 201, created.text
    incident = created.json()
    assert created.headers["location"] == f"/api/v1/incidents/{incident['id']}"
    assert created.headers["etag"] == '"1"'
    assert incident["coded_by"] == "ana"
    assert incident["tactic_families"] == ["physical"]
    read = client.get(f"/api/v1/incidents/{incident['id']}", headers=analyst)
    assert read.json() == incident
    patched = client.patch(
        f"/api/v1/incidents/{incident['id']}",
        json={"tlp": "red"},
        headers={**analyst, "If-Match": read.headers["etag"]},
    )
    assert patched.status_code == 200
    assert patched.json()["tlp"] == "red"
    assert patched.headers["etag"] == '"2"'
    stale = client.patch(
        f"/api/v1/incidents/{incident['id']}", json={"tlp": "clear"}, headers={**analyst, "If-Match": '"1"'}
    )
    assert stale.status_code == 412


def test_list_with_filters_facets_and_pages(client: TestClient, analyst: dict[str, str]) -> None:
    for day, origin in [(1, "CN"), (2, "CN"), (3, "TR"), (4, "CN"), (5, "RU")]:
        client.post(
            "/api/v1/incidents",
            json=incident_data(date_start=f"2022-02-0{day}", origin_countries=[origin]),
            headers=analyst,
        )
    first = client.get(
        "/api/v1/incidents?origin=CN,TR&limit=2&facets=origin&facets=host&include_total=true", headers=analyst
    )
    body = first.json()
    assert first.status_code == 200
    assert body["total"] == 4
    assert len(body["items"]) == 2
    assert {f["value"]: f["count"] for f in body["facets"]["origin"]} == {"CN": 3, "TR": 1}
    assert [item["date_start"] for item in body["items"]] == ["2022-02-04", "2022-02-03"]
    second = client.get(f"/api/v1/incidents?origin=CN,TR&limit=2&cursor={body['next_cursor']}", headers=analyst).json()
    assert [item["date_start"] for item in second["items"]] == ["2022-02-02", "2022-02-01"]
    assert second["next_cursor"] is None


def test_geojson_hides_obfuscated_places(client: TestClient, analyst: dict[str, str]) -> None:
    hidden = {
        "country": "LT",
        "geo_precision": "point",
        "place": "Vilnius",
        "lat": 54.69,
        "lon": 25.28,
        "obfuscated": True,
    }
    shown = {"country": "DE", "geo_precision": "point", "lat": 52.52, "lon": 13.40}
    client.post("/api/v1/incidents", json=incident_data(locations=[hidden, shown], synthetic=True), headers=analyst)
    answer = client.get("/api/v1/incidents.geojson?host=LT", headers=analyst)
    assert answer.headers["content-type"].startswith("application/geo+json")
    collection = answer.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["synthetic"] is True
    by_country = {f["properties"]["host_country"]: f for f in collection["features"]}
    assert by_country["LT"]["geometry"] is None
    assert by_country["LT"]["properties"]["place"] is None
    assert by_country["LT"]["properties"]["geo_precision"] == "country"
    assert "54.69" not in answer.text
    assert "Vilnius" not in answer.text
    assert by_country["DE"]["geometry"] == {"type": "Point", "coordinates": [13.40, 52.52]}


def test_unknown_taxonomy_codes_answer_422_naming_valid_codes(client: TestClient, analyst: dict[str, str]) -> None:
    answer = client.get("/api/v1/incidents?tactic=kidnapping", headers=analyst)
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["loc"] == ["query", "tactic", 0]
    assert "unknown tactic code 'kidnapping'" in error["msg"]
    assert "abduction" in error["msg"]
    posted = client.post("/api/v1/incidents", json=incident_data(tactics=["kidnapping"]), headers=analyst)
    assert posted.status_code == 422
    assert posted.json()["errors"][0]["loc"] == ["body", "tactics", 0]


def test_unknown_query_parameters_are_refused(client: TestClient, analyst: dict[str, str]) -> None:
    answer = client.get("/api/v1/incidents?orign=CN", headers=analyst)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["query", "orign"]


def test_page_size_is_capped(client: TestClient, analyst: dict[str, str], node: Node) -> None:
    answer = client.get(f"/api/v1/incidents?limit={node.settings.max_page_size + 1}", headers=analyst)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["query", "limit"]


def test_roles_are_enforced(client: TestClient, node: Node) -> None:
    auditor = token_for(node, "aud", "auditor")
    assert client.get("/api/v1/incidents", headers=auditor).status_code == 403
    liaison = token_for(node, "lia", "liaison")
    assert client.get("/api/v1/incidents", headers=liaison).status_code == 200
    assert client.post("/api/v1/incidents", json=incident_data(), headers=liaison).status_code == 403


def test_missing_incident_is_404(client: TestClient, analyst: dict[str, str]) -> None:
    assert client.get(f"/api/v1/incidents/{uuid.uuid4()}", headers=analyst).status_code == 404
    assert client.get("/api/v1/incidents/not-a-uuid", headers=analyst).status_code == 422


def test_persons_and_actors(client: TestClient, node: Node) -> None:
    officer = token_for(node, "off", "officer")
    person = client.post("/api/v1/persons", json={"identity": {"full_name": "Name Surname"}}, headers=officer).json()
    listed = client.get("/api/v1/persons", headers=officer).text
    assert "Surname" not in listed
    assert person["pseudonym"] in listed
    opened = client.get(f"/api/v1/persons/{person['id']}?include_identity=true", headers=officer).json()
    assert opened["identity"]["full_name"] == "Name Surname"
    analyst = token_for(node, "ana", "analyst")
    assert client.get(f"/api/v1/persons/{person['id']}?include_identity=true", headers=analyst).status_code == 403
    actor = client.post(
        "/api/v1/actors", json={"name": "Example police", "actor_type": "police", "country": "BY"}, headers=analyst
    )
    assert actor.status_code == 201
    linked = client.post(
        "/api/v1/incidents",
        json=incident_data(actors=[{"id": actor.json()["id"], "role": "perpetrator"}], persons=[{"id": person["id"]}]),
        headers=analyst,
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["persons"] == [{"id": person["id"], "role": "target"}]


def test_taxonomy_route(client: TestClient, analyst: dict[str, str]) -> None:
    taxonomy = client.get("/api/v1/taxonomy", headers=analyst).json()
    assert taxonomy["version"] == "1.0.0"
    assert "abduction" in json.dumps(taxonomy)


def test_indicators_are_created_read_and_refused_by_position(client: TestClient, analyst: dict[str, str]) -> None:
    indicators = [
        {"kind": "domain-name", "value": "Update-Check.Example[.]com", "note": "Contacted by the phone"},
        {"kind": "ipv4-addr", "value": "192.0.2.10", "first_seen": "2021-03-01"},
    ]
    created = client.post(
        "/api/v1/incidents", json=incident_data(tactics=["spyware"], indicators=indicators), headers=analyst
    )
    assert created.status_code == 201, created.text
    assert created.json()["indicators"] == [
        {
            "kind": "domain-name",
            "value": "update-check.example.com",
            "note": "Contacted by the phone",
            "first_seen": None,
            "last_seen": None,
        },
        {"kind": "ipv4-addr", "value": "192.0.2.10", "note": None, "first_seen": "2021-03-01", "last_seen": None},
    ]
    geojson = client.get("/api/v1/incidents.geojson", headers=analyst).json()
    assert [i["value"] for i in geojson["features"][0]["properties"]["indicators"]] == [
        "update-check.example.com",
        "192.0.2.10",
    ]
    bad = [*indicators, {"kind": "phone", "value": "+44 20 7946 0000"}, {"kind": "file-sha256", "value": "abc"}]
    refused = client.post("/api/v1/incidents", json=incident_data(indicators=bad), headers=analyst)
    assert refused.status_code == 422
    locations = {tuple(error["loc"]): error["msg"] for error in refused.json()["errors"]}
    assert set(locations) == {("body", "indicators", 2, "kind"), ("body", "indicators", 3, "value")}
    assert "64 hexadecimal digits" in locations[("body", "indicators", 3, "value")]
