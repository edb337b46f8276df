"""Incidents through the service layer, on SQLite and PostgreSQL: create, read, update, search, facets, pages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select

from tnrwatch.domain.filters import BBox, IncidentFilter
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError, PreconditionFailedError
from tnrwatch.services import actors, incidents, persons
from tnrwatch.services.incidents import IncidentQuery
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry, Incident, IncidentIndicator

from ..factories import incident_data

ANALYST = Principal(account_id=None, username="ana", role="analyst")


def create(node: Node, **overrides: Any) -> uuid.UUID:
    return incidents.create_incident(node, ANALYST, incident_data(**overrides)).id


def search(node: Node, **query: Any) -> incidents.IncidentPage:
    flt = IncidentFilter(**query.pop("filter", {}))
    return incidents.search_incidents(node, ANALYST, IncidentQuery(filter=flt, **query))


def test_create_and_read_back(node: Node) -> None:
    incident_id = create(node, tactics=["family_threats", "abduction"], vulnerability_flags=["woman"])
    stored = incidents.get_incident(node, ANALYST, incident_id)
    assert stored.title == "Activist abducted near a bus station"
    assert stored.tactics == ["abduction", "family_threats"]
    assert stored.tactic_families == ["physical", "proxy_coercion"]
    assert stored.locations[0].place == "Istanbul"
    assert stored.sources[0].reliability == "B"
    assert stored.taxonomy_version == node.taxonomy.version
    assert stored.version == 1
    assert stored.created_at.tzinfo is not None


def test_given_ids_are_kept_and_duplicates_refused(node: Node) -> None:
    given = uuid.uuid4()
    assert create(node, id=str(given)) == given
    with pytest.raises(ConflictError):
        create(node, id=str(given))


def test_unknown_links_are_reported_with_their_position(node: Node) -> None:
    missing = uuid.uuid4()
    with pytest.raises(InvalidInputError) as caught:
        create(node, actors=[{"id": str(missing), "role": "perpetrator"}])
    assert caught.value.errors[0].loc == ("actors", 0, "id")


def test_links_to_persons_and_actors(node: Node, operator: Principal) -> None:
    person = persons.create_person(node, operator, {"pseudonym": "P-TEST0001"})
    actor = actors.create_actor(
        node, operator, {"name": "A security service", "actor_type": "intelligence_service", "country": "UZ"}
    )
    incident_id = create(
        node, persons=[{"id": str(person.id), "role": "target"}], actors=[{"id": str(actor.id), "role": "suspected"}]
    )
    stored = incidents.get_incident(node, ANALYST, incident_id)
    assert [(link.id, link.role) for link in stored.persons] == [(person.id, "target")]
    assert [(link.id, link.role) for link in stored.actors] == [(actor.id, "suspected")]


def test_update_replaces_fields_and_bumps_the_version(node: Node) -> None:
    incident_id = create(node)
    updated = incidents.update_incident(
        node, ANALYST, incident_id, {"verification": "verified", "tactics": ["forced_return"]}, expected_version=1
    )
    assert updated.version == 2
    assert updated.verification == "verified"
    assert updated.tactics == ["forced_return"]
    assert updated.sources == incidents.get_incident(node, ANALYST, incident_id).sources  # untouched fields stay
    with pytest.raises(PreconditionFailedError):
        incidents.update_incident(node, ANALYST, incident_id, {"tlp": "red"}, expected_version=1)


SPYWARE_INDICATORS = [
    {
        "kind": "domain-name",
        "value": "Update[.]Example.com",
        "note": "Contacted by the phone",
        "first_seen": "2021-03-02",
    },
    {"kind": "url", "value": "https://update.example.com/x?id=7", "last_seen": "2021-03-20"},
    {"kind": "file-sha256", "value": "CD" * 32},
]


def test_indicators_are_stored_in_canonical_form_and_read_back_in_order(node: Node) -> None:
    incident_id = create(node, tactics=["spyware"], indicators=SPYWARE_INDICATORS)
    stored = incidents.get_incident(node, ANALYST, incident_id)
    assert [indicator.model_dump(mode="json") for indicator in stored.indicators] == [
        {
            "kind": "domain-name",
            "value": "update.example.com",
            "note": "Contacted by the phone",
            "first_seen": "2021-03-02",
            "last_seen": None,
        },
        {
            "kind": "url",
            "value": "https://update.example.com/x?id=7",
            "note": None,
            "first_seen": None,
            "last_seen": "2021-03-20",
        },
        {"kind": "file-sha256", "value": "cd" * 32, "note": None, "first_seen": None, "last_seen": None},
    ]


def test_an_update_replaces_the_indicators_and_a_deleted_incident_takes_them_along(node: Node) -> None:
    incident_id = create(node, tactics=["spyware"], indicators=SPYWARE_INDICATORS)
    other_id = create(node, tactics=["spyware"], indicators=SPYWARE_INDICATORS[:1])
    updated = incidents.update_incident(
        node, ANALYST, incident_id, {"indicators": [{"kind": "ipv4-addr", "value": "192.0.2.44"}]}
    )
    assert [(i.kind, i.value) for i in updated.indicators] == [("ipv4-addr", "192.0.2.44")]
    kept = incidents.update_incident(node, ANALYST, incident_id, {"title": "Renamed"})
    assert kept.indicators == updated.indicators  # a patch that leaves them out keeps them
    with pytest.raises(InvalidInputError) as caught:
        incidents.update_incident(node, ANALYST, incident_id, {"indicators": [{"kind": "url", "value": "mailto:x"}]})
    assert caught.value.errors[0].loc == ("indicators", 0, "value")
    with node.store.writing() as session:
        session.execute(delete(Incident).where(Incident.uuid == incident_id))
    with node.store.reading() as session:
        left = session.execute(select(IncidentIndicator.kind, IncidentIndicator.value)).all()
    assert [tuple(row) for row in left] == [("domain-name", "update.example.com")]  # the other incident's
    assert incidents.get_incident(node, ANALYST, other_id).indicators[0].value == "update.example.com"


def test_update_is_validated_as_a_whole(node: Node) -> None:
    incident_id = create(node, date_start="2021-03-15")
    with pytest.raises(InvalidInputError) as caught:
        incidents.update_incident(node, ANALYST, incident_id, {"date_end": "2020-01-01", "colour": "red"})
    assert caught.value.errors[0].loc == ("colour",)
    with pytest.raises(InvalidInputError) as caught:
        incidents.update_incident(node, ANALYST, incident_id, {"date_end": "2020-01-01"})
    assert caught.value.errors[0].loc == ("date_end",)
    assert incidents.get_incident(node, ANALYST, incident_id).version == 1


def test_missing_incident(node: Node) -> None:
    with pytest.raises(NotFoundError):
        incidents.get_incident(node, ANALYST, uuid.uuid4())


def test_roles_without_write_permission_are_refused(node: Node) -> None:
    auditor = Principal(account_id=None, username="aud", role="auditor")
    with pytest.raises(ForbiddenError):
        incidents.create_incident(node, auditor, incident_data())
    with pytest.raises(ForbiddenError):
        incidents.search_incidents(node, auditor, IncidentQuery())


def test_writes_are_recorded_without_values(node: Node) -> None:
    incident_id = create(node)
    incidents.update_incident(node, ANALYST, incident_id, {"summary": "Name Surname was followed"})
    with node.store.reading() as session:
        changes = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_uuid == incident_id).order_by(AuditEntry.id)
        ).all()
    assert [change.action for change in changes] == ["create", "update"]
    assert changes[1].fields == ["summary"]
    assert "Surname" not in repr([(c.fields, c.note) for c in changes])


def seed_for_search(node: Node) -> dict[str, uuid.UUID]:
    return {
        "cn_de": create(
            node,
            title="Relatives questioned",
            origin_countries=["CN"],
            tactics=["family_pressure"],
            locations=[{"country": "DE"}],
            date_start="2019-05-01",
            verification="verified",
            target_categories=["minority"],
        ),
        "cn_nl": create(
            node,
            title="Phishing against a journalist",
            origin_countries=["CN"],
            tactics=["account_compromise"],
            locations=[{"country": "NL"}, {"country": "DE"}],
            date_start="2022-01-10",
            summary="Spear phishing of a reporter",
        ),
        "tr_de": create(
            node,
            title="Red notice for a publisher",
            origin_countries=["TR"],
            tactics=["interpol_red_notice"],
            locations=[{"country": "DE", "geo_precision": "point", "lat": 52.52, "lon": 13.40}],
            date_start="2020-07-01",
            vulnerability_flags=["refugee"],
        ),
        "ru_lt": create(
            node,
            title="Attack on an exiled politician",
            origin_countries=["RU"],
            tactics=["assault", "stalking"],
            locations=[{"country": "LT", "geo_precision": "point", "lat": 54.69, "lon": 25.28, "obfuscated": True}],
            date_start="2024-03-12",
            host_state_role="protective",
        ),
    }


def ids(page: incidents.IncidentPage) -> set[uuid.UUID]:
    return {item.id for item in page.items}


def test_filters(node: Node) -> None:
    made = seed_for_search(node)
    assert ids(search(node, filter={"origin": ["CN"]})) == {made["cn_de"], made["cn_nl"]}
    assert ids(search(node, filter={"host": ["DE"]})) == {made["cn_de"], made["cn_nl"], made["tr_de"]}
    assert ids(search(node, filter={"origin": ["CN"], "host": ["NL"]})) == {made["cn_nl"]}
    assert ids(search(node, filter={"tactic_family": ["digital", "legal"]})) == {made["cn_nl"], made["tr_de"]}
    assert ids(search(node, filter={"tactic": ["stalking"]})) == {made["ru_lt"]}
    assert ids(search(node, filter={"verification": ["verified"]})) == {made["cn_de"]}
    assert ids(search(node, filter={"target_category": ["minority"]})) == {made["cn_de"]}
    assert ids(search(node, filter={"vulnerability": ["refugee"]})) == {made["tr_de"]}
    assert ids(search(node, filter={"host_state_role": ["protective"]})) == {made["ru_lt"]}
    assert ids(search(node, filter={"date_from": "2020-07-01", "date_to": "2022-12-31"})) == {
        made["cn_nl"],
        made["tr_de"],
    }


def test_full_text_search(node: Node) -> None:
    made = seed_for_search(node)
    assert ids(search(node, filter={"q": "phishing"})) == {made["cn_nl"]}
    assert ids(search(node, filter={"q": "reporter phishing"})) == {made["cn_nl"]}
    assert ids(search(node, filter={"q": "NOTICE"})) == {made["tr_de"]}
    assert ids(search(node, filter={"q": 'red" OR "attack'})) == set()  # user text is never query syntax
    assert ids(search(node, filter={"q": "***"})) == set()


def test_bbox_never_matches_obfuscated_locations(node: Node) -> None:
    made = seed_for_search(node)
    europe = BBox(west=-10, south=35, east=40, north=70)
    assert ids(search(node, filter={"bbox": europe})) == {made["tr_de"]}  # the Vilnius point is obfuscated


def test_facets_count_each_incident_once_per_value(node: Node) -> None:
    seed_for_search(node)
    page = search(node, facets=["host", "origin", "tactic_family", "year", "verification"], include_total=True)
    facets = {name: {value.value: value.count for value in values} for name, values in (page.facets or {}).items()}
    assert page.total == 4
    assert facets["host"] == {"DE": 3, "NL": 1, "LT": 1}
    assert facets["origin"] == {"CN": 2, "TR": 1, "RU": 1}
    assert facets["tactic_family"] == {"proxy_coercion": 1, "digital": 1, "legal": 1, "physical": 1, "intimidation": 1}
    assert facets["year"] == {"2019": 1, "2020": 1, "2022": 1, "2024": 1}
    labels = {value.value: value.label for value in (page.facets or {})["host"]}
    assert labels["DE"] == "Germany"


def test_facets_follow_the_filter(node: Node) -> None:
    seed_for_search(node)
    page = search(node, filter={"origin": ["CN"]}, facets=["host"])
    assert {v.value: v.count for v in (page.facets or {})["host"]} == {"DE": 2, "NL": 1}


@pytest.mark.parametrize("sort", ["date", "-date", "created", "-created", "updated", "-updated"])
def test_cursor_pages_are_stable_under_inserts(node: Node, sort: str) -> None:
    for day in range(1, 26):
        create(node, date_start=f"2021-01-{day:02d}", title=f"Incident {day}")
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = search(node, sort=sort, limit=7, cursor=cursor)
        seen.extend(item.id for item in page.items)
        if len(seen) == 7:
            for day in range(1, 4):  # new incidents arrive between pages
                create(node, date_start=f"2021-01-{day:02d}", title=f"Late {day}")
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "a row was repeated across pages"
    first_25 = {item.id for item in search(node, limit=1000, filter={"q": "Incident"}).items}
    assert first_25 <= set(seen), "a row that existed before paging began was skipped"


def test_bad_search_parameters_are_all_reported(node: Node) -> None:
    with pytest.raises(InvalidInputError) as caught:
        search(node, sort="title", facets=["colour"], cursor="%%%")
    assert {error.loc[0] for error in caught.value.errors} == {"sort", "facets", "cursor"}


def test_a_cursor_from_another_sort_is_refused(node: Node) -> None:
    for day in range(1, 4):
        create(node, date_start=f"2021-01-{day:02d}")
    cursor = search(node, sort="date", limit=1).next_cursor
    with pytest.raises(InvalidInputError, match="search is invalid") as caught:
        search(node, sort="-date", cursor=cursor)
    assert "belongs to sort 'date'" in caught.value.errors[0].msg
    with pytest.raises(InvalidInputError):
        search(node, cursor="bm90IGEgY3Vyc29y")
