"""The map's numbers against a plain count over the incidents themselves, with and without a filter, and under the
visibility rule. Both databases; Hypothesis draws the incidents."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.errors import InvalidInputError
from tnrwatch.services import incidents, mapping
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Incident, IncidentLocation, IncidentOrigin, IncidentTactic, Source

from ..factories import incident_data

OPERATOR = Principal.operator()
TACTICS = ("abduction", "family_threats", "interpol_red_notice", "spyware")
COUNTRIES = ("DE", "FR", "TR", "LV")
ORIGINS = ("CN", "RU", "IR")

incident_specs = st.lists(
    st.fixed_dictionaries(
        {
            "origins": st.lists(st.sampled_from(ORIGINS), min_size=1, max_size=2, unique=True),
            "hosts": st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3),  # repeats: one country twice
            "tactics": st.lists(st.sampled_from(TACTICS), min_size=1, max_size=3, unique=True),
            "month": st.integers(min_value=1, max_value=12),
            "year": st.sampled_from((2023, 2024)),
        }
    ),
    min_size=1,
    max_size=12,
)


def stored(node: Node, spec: dict[str, Any]) -> None:
    incidents.create_incident(
        node,
        OPERATOR,
        incident_data(
            origin_countries=spec["origins"],
            locations=[{"country": c, "geo_precision": "country"} for c in spec["hosts"]],
            tactics=spec["tactics"],
            date_start=dt.date(spec["year"], spec["month"], 10).isoformat(),
        ),
    )


def expected(node: Node, specs: list[dict[str, Any]]) -> dict[str, Any]:
    family = {term.code: term.family for term in node.taxonomy.tactics}
    hosts, origins, flows, timeline = Counter(), Counter(), Counter(), Counter()
    for spec in specs:
        for host in set(spec["hosts"]):
            hosts[host] += 1
        for origin in spec["origins"]:
            origins[origin] += 1
            for host in set(spec["hosts"]):
                flows[(origin, host)] += 1
        for tactic_family in {family[t] for t in spec["tactics"]}:
            timeline[(f"{spec['year']:04d}-{spec['month']:02d}", tactic_family)] += 1
    return {"hosts": dict(hosts), "origins": dict(origins), "flows": dict(flows), "timeline": dict(timeline)}


def observed(view: mapping.MapView) -> dict[str, Any]:
    return {
        "hosts": {v.value: v.count for v in view.hosts},
        "origins": {v.value: v.count for v in view.origins},
        "flows": {(f.origin, f.host): f.count for f in view.flows},
        "timeline": {(m.month, m.tactic_family): m.count for m in view.timeline},
    }


def clear(node: Node) -> None:
    """Each Hypothesis example starts from an empty incident store (the fixture's node lives for the whole test)."""
    with node.store.writing() as session:
        for table in (IncidentTactic, IncidentOrigin, IncidentLocation, Source, Incident):
            session.execute(delete(table))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=incident_specs)
def test_the_map_counts_what_a_plain_count_counts(node: Node, specs: list[dict[str, Any]]) -> None:
    clear(node)
    for spec in specs:
        stored(node, spec)
    family = {term.code: term.family for term in node.taxonomy.tactics}
    whole = mapping.map_view(node, OPERATOR, IncidentFilter(), facets=["tactic_family"])
    assert whole.total == len(specs)
    assert observed(whole) == expected(node, specs)
    per_family = Counter(f for spec in specs for f in {family[t] for t in spec["tactics"]})
    assert {v.value: v.count for v in whole.facets["tactic_family"]} == dict(per_family)
    chinese = [spec for spec in specs if "CN" in spec["origins"]]
    filtered = mapping.map_view(node, OPERATOR, IncidentFilter(origin=["CN"]))
    assert filtered.total == len(chinese)
    assert observed(filtered) == expected(node, chinese)


def test_the_map_counts_only_what_its_reader_may_read(node: Node) -> None:
    german = Principal(None, "olga", "officer", "DE")
    incidents.create_incident(node, german, incident_data(tlp="amber", origin_countries=["RU"]))
    incidents.create_incident(node, OPERATOR, incident_data(tlp="green", origin_countries=["CN"]))
    incidents.create_incident(node, OPERATOR, incident_data(tlp="red", origin_countries=["IR"]))
    french = Principal(None, "fabien", "officer", "FR")
    assert {v.value for v in mapping.map_view(node, german, IncidentFilter()).origins} == {"RU", "CN"}
    assert {v.value for v in mapping.map_view(node, french, IncidentFilter()).origins} == {"CN"}
    analyst = Principal(None, "ana", "analyst")
    assert {v.value for v in mapping.map_view(node, analyst, IncidentFilter()).origins} == {"CN", "IR"}
    assert mapping.map_view(node, OPERATOR, IncidentFilter()).total == 3


def test_an_unknown_facet_is_refused_by_name(node: Node) -> None:
    with pytest.raises(InvalidInputError) as refused:
        mapping.map_view(node, OPERATOR, IncidentFilter(), facets=["colour"])
    assert refused.value.errors[0].loc == ("facets",)
    assert "colour" in refused.value.errors[0].msg


def test_the_columnar_copy_and_the_database_draw_the_same_map(node: Node) -> None:
    """The same views, read from the map's columnar copy (the default) and from the database itself."""
    german = Principal(None, "olga", "officer", "DE")
    for n, (origin, host, tactic, tlp) in enumerate(
        [
            ("CN", "DE", "spyware", "green"),
            ("CN", "FR", "abduction", "amber"),
            ("RU", "DE", "family_threats", "red"),
            ("IR", "TR", "interpol_red_notice", "clear"),
            ("RU", "LV", "spyware", "amber"),
        ]
    ):
        author = german if n % 2 else OPERATOR
        incidents.create_incident(
            node,
            author,
            incident_data(
                origin_countries=[origin],
                locations=[
                    {"country": host, "geo_precision": "country"},
                    {"country": host, "geo_precision": "country"},
                ],
                tactics=[tactic],
                tlp=tlp,
                date_start=f"2024-0{n + 1}-15",
                target_categories=["journalist"] if n % 2 else ["activist", "hrd"],
            ),
        )
    from_database = Node(
        settings=node.settings.model_copy(update={"map_copy": False}), store=node.store, taxonomy=node.taxonomy
    )
    filters = [
        IncidentFilter(),
        IncidentFilter(origin=["CN", "RU"]),
        IncidentFilter(host=["DE"], tactic_family=["digital"]),
        IncidentFilter(target_category=["journalist"], date_from=dt.date(2024, 2, 1)),
        IncidentFilter(verification=["corroborated"], date_to=dt.date(2024, 3, 31)),
    ]
    readers = [OPERATOR, german, Principal(None, "fabien", "officer", "FR"), Principal(None, "ana", "analyst")]
    facets = ["tactic_family", "target_category", "verification", "tactic"]
    for reader in readers:
        for flt in filters:
            copied = mapping.map_view(node, reader, flt, facets)
            direct = mapping.map_view(from_database, reader, flt, facets)
            assert copied == direct, (reader.username, flt)
    assert node.analytics is not None
    assert node.analytics.ready
    assert from_database.analytics is None
