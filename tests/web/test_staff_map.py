"""The map page's server side: the numbers, chart specs and points it carries, the filters as links and chips, the
markings a reader may pick, the frame endpoint behind the time slider, the incidents table's paging, and the exports
of the page's filter, under each reader's visibility. Both databases."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tnrwatch.services import accounts, incidents, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data
from .test_staff_pages import PASSWORD, TOTP_SECRETS, client, settings, sign_in

__all__ = ["client", "settings"]  # fixtures, used by name

OPERATOR = Principal.operator()
BERLIN = {"country": "DE", "geo_precision": "place", "place": "Berlin", "lat": 52.52, "lon": 13.40}
HIDDEN = {"country": "DE", "geo_precision": "point", "lat": 48.14, "lon": 11.58, "obfuscated": True}
LATVIA = {"country": "LV", "geo_precision": "country"}


def signed_in(client: TestClient, node: Node, username: str, role: str, jurisdiction: str | None = None) -> None:
    accounts.add_account(node, OPERATOR, username, role, jurisdiction=jurisdiction)
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303


def store(node: Node, principal: Principal = OPERATOR, **fields: Any) -> str:
    return str(incidents.create_incident(node, principal, incident_data(**fields)).id)


def page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="map-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries no map data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def table_ids(html: str) -> list[str]:
    table = html.split('id="incidents-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'href="/app/incidents/([0-9a-f-]{36})"', table)


def three(node: Node) -> dict[str, str]:
    return {
        "berlin": store(node, origin_countries=["CN"], locations=[BERLIN], date_start="2025-01-10"),
        "hidden": store(node, origin_countries=["RU"], locations=[HIDDEN], date_start="2025-02-10"),
        "latvia": store(
            node, origin_countries=["RU"], locations=[LATVIA], tactics=["spyware"], date_start="2025-03-10"
        ),
    }


def test_the_page_carries_its_charts_points_links_and_chips(client: TestClient, node: Node) -> None:
    ids = three(node)
    signed_in(client, node, "ana", "analyst")
    page = client.get("/app/map?origin=RU&host=")
    assert page.status_code == 200
    data = page_data(page.text)
    assert data["map"]["total"] == 2
    assert set(data["charts"]) == {"timeline", "pairs", "tactics", "targets"}
    assert data["charts"]["tactics"]["mark"]["type"] == "bar"
    tactic_bars = next(iter(data["charts"]["tactics"]["datasets"].values()))
    assert {bar["value"] for bar in tactic_bars} == {"physical", "digital"}  # codes, for the click to filter by
    assert data["months"] == ["2025-02", "2025-03"]
    assert data["map"]["points"]["items"] == []  # Munich is obfuscated: no point
    assert data["map"]["points"]["country_only"] == 2
    assert sorted(table_ids(page.text)) == sorted([ids["hidden"], ids["latvia"]])
    # The chip removes its filter, the table's links add one and keep the rest (empty fields dropped).
    assert 'href="/app/map" aria-label="Remove the filter Origin: Russian Federation"' in page.text
    assert 'href="/app/map?origin=RU&amp;tactic_family=digital"' in page.text
    assert 'href="/app/map?origin=RU&amp;date_from=2025-03-01&amp;date_to=2025-03-31"' in page.text
    assert "/app/map/incidents.csv?origin=RU" in page.text

    whole = page_data(client.get("/app/map").text)
    assert [(p["lat"], p["lon"], p["tactics"]) for p in whole["map"]["points"]["items"]] == [
        (52.52, 13.40, ["Abduction or rendition"])
    ]
    assert "Berlin" not in json.dumps(whole["map"]["points"])  # no place, no title


def test_the_marking_filter_offers_what_the_reader_may_read(client: TestClient, node: Node) -> None:
    def markings(html: str) -> list[str]:
        select = html.split('id="filter-tlp"', 1)[1].split("</select>", 1)[0]
        return re.findall(r'<option value="([a-z+]+)"', select)

    signed_in(client, node, "ana", "analyst")
    assert "red" in markings(client.get("/app/map").text)  # the EU level owns the node's RED records
    signed_in(client, node, "lia", "liaison")
    assert markings(client.get("/app/map").text) == ["clear", "green", "amber", "amber+strict"]
    signed_in(client, node, "olga", "officer", "DE")
    assert "red" in markings(client.get("/app/map").text)  # its own focal point's RED records


def test_the_frame_endpoint_draws_one_month_of_the_filter(client: TestClient, node: Node) -> None:
    three(node)
    signed_in(client, node, "ana", "analyst")
    whole = client.get("/app/api/map?layer=host").json()
    assert whole["total"] == 3
    assert whole["month"] is None
    assert whole["points"] is None  # the points layer is off
    march = client.get("/app/api/map?month=2025-03&layer=host&points=1").json()
    assert march["month"] == "2025-03"
    assert march["total"] == 1
    assert [h["country"] for h in march["hosts"]] == ["LV"]
    assert [(f["origin"], f["host"], f["count"]) for f in march["flows"]] == [("RU", "LV", 1)]
    assert march["points"]["items"] == []
    january = client.get("/app/api/map?month=2025-01&points=1").json()  # a fresh address: every layer on
    assert [p["lat"] for p in january["points"]["items"]] == [52.52]
    outside = client.get("/app/api/map?month=2025-03&date_to=2025-02-28").json()
    assert outside["month"] is None  # a month outside the period is not drawn
    assert outside["total"] == 2
    refused = client.get("/app/api/map?month=2025-13")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["query", "month"]
    page = client.get("/app/map?month=2025-02")
    assert "in 2025-02 (the map shows one month; 3 in the whole period)" in " ".join(page.text.split())
    assert page_data(page.text)["map"]["total"] == 1


def test_the_incidents_table_pages_forward_and_back(client: TestClient, node: Node) -> None:
    made = [store(node, date_start=f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}") for n in range(30)]
    newest_first = list(reversed(made))
    signed_in(client, node, "ana", "analyst")
    first = client.get("/app/map?layer=host")
    assert table_ids(first.text) == newest_first[:25]
    next_href = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert next_href
    assert 'rel="prev"' not in first.text
    second = client.get(next_href.group(1).replace("&amp;", "&"))
    assert table_ids(second.text) == newest_first[25:]
    assert "page 2" in second.text
    assert 'rel="next"' not in second.text
    previous = re.search(r'<a href="([^"]+)" rel="prev">', second.text)
    assert previous
    assert "layer=host" in previous.group(1)
    assert table_ids(client.get(previous.group(1).replace("&amp;", "&")).text) == newest_first[:25]
    assert client.get("/app/map?cursor=damaged").status_code == 422


def test_the_exports_hold_the_page_filter_as_the_reader_sees_it(client: TestClient, node: Node) -> None:
    ids = three(node)
    german = Principal(None, "olga", "officer", "DE")
    store(node, german, origin_countries=["RU"], locations=[LATVIA], tlp="amber")  # Germany's, not shared
    signed_in(client, node, "fabien", "officer", "FR")
    exported = client.get("/app/map/incidents.csv?origin=RU&host=&layer=host")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="tnrwatch-incidents-')
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(row["id"] for row in rows) == sorted([ids["hidden"], ids["latvia"]])
    geojson = client.get("/app/map/incidents.geojson?origin=RU")
    assert geojson.headers["content-type"] == "application/geo+json"
    features = geojson.json()["features"]
    assert sorted(f["properties"]["incident_id"] for f in features) == sorted([ids["hidden"], ids["latvia"]])
    hidden = next(f for f in features if f["properties"]["obfuscated"])
    assert hidden["geometry"] is None
    assert hidden["properties"]["geo_precision"] == "country"
    signed_in(client, node, "olga", "officer", "DE")
    assert len(list(csv.DictReader(io.StringIO(client.get("/app/map/incidents.csv?origin=RU").text)))) == 3
    assert client.get("/app/map/incidents.csv?origin=XX").status_code == 422
