"""The map's points: only locations known to a point or a place, never an obfuscated one, each reader seeing what a
search shows them, the newest first and capped. Both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.errors import ForbiddenError
from tnrwatch.services import incidents, map_points
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

OPERATOR = Principal.operator()
BERLIN = {"country": "DE", "geo_precision": "place", "place": "Berlin", "lat": 52.52, "lon": 13.40}
PARIS = {"country": "FR", "geo_precision": "point", "lat": 48.857, "lon": 2.352}
HIDDEN = {"country": "DE", "geo_precision": "point", "lat": 48.14, "lon": 11.58, "obfuscated": True}
BAVARIA = {"country": "DE", "geo_precision": "admin1", "admin1": "Bavaria"}
LATVIA = {"country": "LV", "geo_precision": "country"}


def stored(node: Node, principal: Principal = OPERATOR, **fields: Any) -> str:
    return str(incidents.create_incident(node, principal, incident_data(**fields)).id)


def located(found: map_points.MapPoints) -> set[tuple[float, float]]:
    return {(p.lat, p.lon) for p in found.points}


def test_only_point_and_place_locations_become_points_and_never_an_obfuscated_one(node: Node) -> None:
    berlin = stored(node, locations=[BERLIN, HIDDEN], tactics=["spyware", "threats"], date_start="2025-01-10")
    stored(node, locations=[PARIS], date_start="2025-02-10")
    stored(node, locations=[BAVARIA, LATVIA], date_start="2025-03-10")
    found = map_points.map_points(node, OPERATOR, IncidentFilter())
    assert located(found) == {(52.52, 13.40), (48.857, 2.352)}
    assert found.drawable == 2
    assert found.country_only == 3  # the obfuscated spot, Bavaria and Latvia: counted in their countries only
    assert not found.capped
    newest, oldest = found.points
    assert newest.date.isoformat() == "2025-02-10"
    assert newest.geo_precision == "point"
    assert (str(oldest.incident_id), oldest.geo_precision) == (berlin, "place")
    assert oldest.tactics == ("spyware", "threats")


def test_points_follow_the_filter_and_the_cap_keeps_the_newest(node: Node) -> None:
    for month in range(1, 6):
        stored(node, locations=[PARIS], origin_countries=["CN"], date_start=f"2025-{month:02d}-10")
    stored(node, locations=[BERLIN], origin_countries=["RU"], date_start="2025-06-10")
    chinese = map_points.map_points(node, OPERATOR, IncidentFilter(origin=["CN"]), limit=2)
    assert [p.date.isoformat() for p in chinese.points] == ["2025-05-10", "2025-04-10"]
    assert chinese.capped
    assert chinese.drawable == 5
    assert located(map_points.map_points(node, OPERATOR, IncidentFilter(origin=["RU"]))) == {(52.52, 13.40)}
    assert map_points.map_points(node, OPERATOR, IncidentFilter(host=["LV"])).points == []


def test_each_reader_sees_the_points_a_search_shows_them(node: Node) -> None:
    german = Principal(None, "olga", "officer", "DE")
    french = Principal(None, "fabien", "officer", "FR")
    analyst = Principal(None, "ana", "analyst")
    stored(node, german, tlp="amber", locations=[BERLIN])  # Germany's own, not shared
    stored(node, OPERATOR, tlp="green", locations=[PARIS])  # the node's own
    stored(node, OPERATOR, tlp="red", locations=[{**BERLIN, "lat": 53.55, "lon": 9.99, "place": "Hamburg"}])
    assert located(map_points.map_points(node, german, IncidentFilter())) == {(52.52, 13.40), (48.857, 2.352)}
    assert located(map_points.map_points(node, french, IncidentFilter())) == {(48.857, 2.352)}
    assert located(map_points.map_points(node, analyst, IncidentFilter())) == {(48.857, 2.352), (53.55, 9.99)}
    assert map_points.map_points(node, french, IncidentFilter()).drawable == 1  # counts leak nothing either
    with pytest.raises(ForbiddenError):
        map_points.map_points(node, Principal(None, "audrey", "auditor"), IncidentFilter())
