"""STIX 2.1 export: incidents, actors and pseudonyms stored through the real services on both databases, exported, and
every bundle checked by the OASIS validator (stix2-validator, strict: no errors and no warnings)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_string

from tnrwatch.domain.actor import ActorOut
from tnrwatch.domain.incident import IncidentOut
from tnrwatch.domain.person import PersonOut
from tnrwatch.interop.stix import TLP2_EXTENSION_ID, TNR_EXTENSION_ID, bundle_of, indicator_description, indicator_id
from tnrwatch.services import actors, incidents, persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Incident

from ..factories import incident_data

OPERATOR = Principal.operator()
NODE_NAME = "Focal point test node"
TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
REAL_NAME = "Zarina Example-Name"
OTHER_NAME = "Зарина Примерова"


def exported(
    incident_list: list[IncidentOut],
    actor_list: list[ActorOut] | None = None,
    person_list: list[PersonOut] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The bundle as JSON, after the validator found nothing wrong with it."""
    bundle = bundle_of(incident_list, actor_list or [], persons=person_list or [], node_name=NODE_NAME, **options)
    text = bundle.serialize(pretty=True)
    results = validate_string(text, ValidationOptions(strict=True))
    problems = [str(error) for error in results.errors] + [str(warning) for warning in results.warnings]
    assert results.is_valid, problems
    assert problems == []
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def objects_of(bundle: dict[str, Any], stix_type: str) -> list[dict[str, Any]]:
    return [obj for obj in bundle["objects"] if obj["type"] == stix_type]


def tnr(stix_object: dict[str, Any]) -> dict[str, Any]:
    extension: dict[str, Any] = stix_object["extensions"][TNR_EXTENSION_ID]
    return extension


def store(node: Node, **overrides: Any) -> IncidentOut:
    return incidents.create_incident(node, OPERATOR, incident_data(**overrides))


def test_incident_carries_its_coding(node: Node) -> None:
    incident = store(
        node,
        tactics=["interpol_red_notice", "abduction"],
        origin_countries=["UZ", "TJ"],
        date_start="2021-03-15",
        date_precision="month",
        host_state_role="cooperating",
    )
    bundle = exported([incident])

    [stix_incident] = objects_of(bundle, "incident")
    assert stix_incident["id"] == f"incident--{incident.id}"
    assert stix_incident["name"] == incident.title
    assert stix_incident["description"] == incident.summary
    assert stix_incident["created_by_ref"] == objects_of(bundle, "identity")[-1]["id"]
    coded = tnr(stix_incident)
    assert coded["tactics"] == incident.tactics
    assert set(coded["tactic_families"]) == {node.taxonomy.family_of(tactic) for tactic in incident.tactics}
    assert coded["origin_countries"] == ["TJ", "UZ"]
    assert coded["host_countries"] == ["TR"]
    assert (coded["date_start"], coded["date_end"], coded["date_precision"]) == ("2021-03-01", "2021-03-31", "month")
    assert (coded["verification"], coded["host_state_role"]) == ("corroborated", "cooperating")
    assert coded["target_categories"] == ["activist"]
    [definition] = objects_of(bundle, "extension-definition")
    assert definition["id"] == TNR_EXTENSION_ID
    assert definition["extension_types"] == ["property-extension"]
    assert definition["schema"].startswith("https://tnrwatch.invalid/")


@pytest.mark.parametrize("tlp", list(TLP_IDS))
def test_every_tlp_level_maps_to_its_official_marking(node: Node, tlp: str) -> None:
    bundle = exported([store(node, tlp=tlp)])

    [stix_incident] = objects_of(bundle, "incident")
    assert stix_incident["object_marking_refs"] == [TLP_IDS[tlp]]
    [marking] = objects_of(bundle, "marking-definition")
    assert marking["id"] == TLP_IDS[tlp]
    assert marking["name"] == f"TLP:{tlp.upper()}"
    assert marking["extensions"] == {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp}}


def test_obfuscated_location_leaves_as_its_country_only(node: Node) -> None:
    incident = store(
        node,
        locations=[
            {
                "country": "DE",
                "geo_precision": "point",
                "admin1": "Berlin",
                "place": "Safe house street",
                "lat": 52.52,
                "lon": 13.405,
                "obfuscated": True,
            },
            {"country": "TR", "geo_precision": "place", "place": "Istanbul", "lat": 41.01, "lon": 28.97},
        ],
    )
    bundle = exported([incident])
    text = json.dumps(bundle)

    by_country = {location["country"]: location for location in tnr(objects_of(bundle, "incident")[0])["locations"]}
    assert by_country["DE"] == {"country": "DE", "geo_precision": "country", "obfuscated": True}
    assert by_country["TR"] == {
        "country": "TR",
        "geo_precision": "place",
        "place": "Istanbul",
        "latitude": 41.01,
        "longitude": 28.97,
    }
    for secret in ("52.52", "13.405", "Safe house", "Berlin"):
        assert secret not in text


def test_persons_leave_only_as_pseudonyms(node: Node) -> None:
    person = persons.create_person(
        node, OPERATOR, {"identity": {"full_name": REAL_NAME, "other_names": [OTHER_NAME], "contact": "+49 30 1234"}}
    )
    witness = persons.create_person(node, OPERATOR, {"pseudonym": "P-WITNESS1"})
    actor = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    incident = store(
        node,
        tlp="red",
        persons=[{"id": str(person.id), "role": "target"}, {"id": str(witness.id), "role": "witness"}],
        actors=[{"id": str(actor.id), "role": "perpetrator"}],
    )
    # The most a caller could pass in: the person read with its identity from the vault.
    with_identity = persons.get_person(node, OPERATOR, person.id, with_identity=True)
    assert with_identity.identity is not None
    assert with_identity.identity.full_name == REAL_NAME

    bundle = exported([incident], [actor], [with_identity, witness])
    text = json.dumps(bundle, ensure_ascii=False)

    for secret in (REAL_NAME, "Zarina", OTHER_NAME, "+49 30 1234"):
        assert secret not in text
    individuals = {obj["name"]: obj for obj in objects_of(bundle, "identity") if obj["identity_class"] == "individual"}
    assert set(individuals) == {person.pseudonym, "P-WITNESS1"}
    assert set(individuals[person.pseudonym]) == {
        "type",
        "spec_version",
        "id",
        "created_by_ref",
        "created",
        "modified",
        "name",
        "identity_class",
        "object_marking_refs",
    }
    assert all(obj["object_marking_refs"] == [TLP_IDS["red"]] for obj in individuals.values())
    links = {
        (rel["relationship_type"], rel["source_ref"], rel["target_ref"]) for rel in objects_of(bundle, "relationship")
    }
    stix_incident, target, stix_witness = (
        f"incident--{incident.id}",
        individuals[person.pseudonym]["id"],
        individuals["P-WITNESS1"]["id"],
    )
    assert links == {
        ("related-to", stix_incident, f"threat-actor--{actor.id}"),
        ("related-to", stix_incident, target),
        ("related-to", stix_incident, stix_witness),
        ("targets", f"threat-actor--{actor.id}", target),  # the witness is not a target
    }


def test_linked_persons_must_be_given(node: Node) -> None:
    person = persons.create_person(node, OPERATOR, {})
    incident = store(node, persons=[{"id": str(person.id), "role": "target"}])
    with pytest.raises(ValueError, match=str(person.id)):
        bundle_of([incident], [], node_name=NODE_NAME)


def test_actors_become_threat_actors_marked_like_their_strictest_incident(node: Node) -> None:
    state = actors.create_actor(node, OPERATOR, {"name": "Republic of Example", "actor_type": "state", "country": "TJ"})
    gang = actors.create_actor(
        node,
        OPERATOR,
        {"name": "Hired gang", "actor_type": "criminal_group", "parent_id": str(state.id), "description": "Paid"},
    )
    unlinked = actors.create_actor(node, OPERATOR, {"name": "Consulate", "actor_type": "diplomatic_mission"})
    green = store(node, tlp="green", actors=[{"id": str(gang.id), "role": "perpetrator"}])
    strict = store(node, tlp="amber+strict", actors=[{"id": str(gang.id), "role": "suspected"}])

    bundle = exported([green, strict], [state, gang, unlinked], default_tlp="red")

    by_name = {obj["name"]: obj for obj in objects_of(bundle, "threat-actor")}
    assert by_name["Hired gang"]["threat_actor_types"] == ["crime-syndicate"]
    assert by_name["Hired gang"]["description"] == "Paid"
    assert by_name["Hired gang"]["object_marking_refs"] == [TLP_IDS["amber+strict"]]
    assert tnr(by_name["Hired gang"])["parent_ref"] == f"threat-actor--{state.id}"
    assert by_name["Republic of Example"]["threat_actor_types"] == ["nation-state"]
    assert by_name["Consulate"]["object_marking_refs"] == [TLP_IDS["red"]]
    roles = {tnr(rel)["actor_role"] for rel in objects_of(bundle, "relationship")}
    assert roles == {"perpetrator", "suspected"}
    marking_ids = [marking["id"] for marking in objects_of(bundle, "marking-definition")]
    assert marking_ids == sorted({TLP_IDS["green"], TLP_IDS["amber+strict"], TLP_IDS["red"]})


def test_masking_drops_free_text(node: Node) -> None:
    actor = actors.create_actor(
        node, OPERATOR, {"name": "Agency", "actor_type": "police", "description": "Runs the outpost"}
    )
    incident = store(node, actors=[{"id": str(actor.id), "role": "perpetrator"}])

    masked = exported([incident], [actor], mask_free_text=True)

    text = json.dumps(masked)
    assert incident.summary not in text
    assert "Runs the outpost" not in text
    assert "description" not in objects_of(masked, "incident")[0]
    assert "description" not in objects_of(masked, "threat-actor")[0]
    assert objects_of(masked, "incident")[0]["name"] == incident.title


def test_ids_are_deterministic(node: Node) -> None:
    person = persons.create_person(node, OPERATOR, {})
    actor = actors.create_actor(node, OPERATOR, {"name": "Agency", "actor_type": "police"})
    incident = store(node, persons=[{"id": str(person.id)}], actors=[{"id": str(actor.id), "role": "perpetrator"}])
    again = incidents.get_incident(node, OPERATOR, incident.id)

    first = exported([incident], [actor], [person])
    second = exported([again], [actor], [person])

    assert [obj["id"] for obj in first["objects"]] == [obj["id"] for obj in second["objects"]]
    assert first["id"] == second["id"]
    assert first == second


SPYWARE_INDICATORS = [
    {"kind": "domain-name", "value": "update-check.example.com", "note": "Contacted by the phone"},
    {"kind": "ipv4-addr", "value": "192.0.2.10", "first_seen": "2021-03-01", "last_seen": "2021-03-20"},
    {"kind": "ipv6-addr", "value": "2001:db8::a"},
    {"kind": "url", "value": "https://update-check.example.com/it's\\here"},
    {"kind": "file-sha256", "value": "ab" * 32},
    {"kind": "email-addr", "value": "support@example.org"},
]


def test_indicators_become_stix_indicators_related_to_their_incident(node: Node) -> None:
    incident = store(node, tactics=["spyware"], tlp="green", indicators=SPYWARE_INDICATORS)
    bundle = exported([incident])

    [stix_incident] = objects_of(bundle, "incident")
    found = {obj["id"]: obj for obj in objects_of(bundle, "indicator")}
    ids = [indicator_id(incident.id, indicator.kind, indicator.value) for indicator in incident.indicators]
    assert list(found) == sorted(ids)
    by_position = [found[stix_id] for stix_id in ids]
    assert [obj["pattern"] for obj in by_position] == [
        "[domain-name:value = 'update-check.example.com']",
        "[ipv4-addr:value = '192.0.2.10']",
        "[ipv6-addr:value = '2001:db8::a']",
        "[url:value = 'https://update-check.example.com/it\\'s%5Chere']",
        "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']",
        "[email-addr:value = 'support@example.org']",
    ]
    for obj in by_position:
        assert run_validator(obj["pattern"], stix_version="2.1") == []
        assert obj["pattern_type"] == "stix"
        assert obj["indicator_types"] == ["malicious-activity"]
        # the incident is GREEN, its indicators go at AMBER: they may point at a victim as well as at an attacker
        assert obj["object_marking_refs"] == [TLP_IDS["amber"]]
        assert obj["created_by_ref"] == stix_incident["created_by_ref"]
    assert stix_incident["object_marking_refs"] == [TLP_IDS["green"]]
    assert by_position[0]["description"] == "Contacted by the phone"
    assert by_position[2]["description"] == indicator_description("ipv6-addr")
    assert by_position[1]["valid_from"] == "2021-03-01T00:00:00Z"
    assert tnr(by_position[1]) == {
        "extension_type": "property-extension",
        "position": 1,
        "first_seen": "2021-03-01",
        "last_seen": "2021-03-20",
    }
    assert by_position[0]["valid_from"] == stix_incident["created"]
    related = [obj for obj in objects_of(bundle, "relationship") if obj["source_ref"].startswith("indicator--")]
    assert sorted((obj["source_ref"], obj["target_ref"]) for obj in related) == sorted(
        (ref, stix_incident["id"]) for ref in found
    )
    assert {obj["relationship_type"] for obj in related} == {"related-to"}
    assert {ref for obj in related for ref in obj["object_marking_refs"]} == {TLP_IDS["amber"]}
    markings = {obj["id"] for obj in objects_of(bundle, "marking-definition")}
    assert markings == {TLP_IDS["green"], TLP_IDS["amber"]}


def test_indicators_keep_a_stricter_marking_and_a_masked_bundle_has_none(node: Node) -> None:
    red = store(node, tactics=["spyware"], tlp="red", indicators=SPYWARE_INDICATORS[:2])
    assert {ref for obj in objects_of(exported([red]), "indicator") for ref in obj["object_marking_refs"]} == {
        TLP_IDS["red"]
    }
    fewer = red.model_copy(update={"indicators": red.indicators[1:]})
    kept = [obj["id"] for obj in objects_of(exported([red]), "indicator") if "192.0.2.10" in obj["pattern"]]
    assert [obj["id"] for obj in objects_of(exported([fewer]), "indicator")] == kept  # ids do not follow positions
    masked = exported([red], mask_free_text=True)
    assert objects_of(masked, "indicator") == []
    assert [obj for obj in objects_of(masked, "relationship") if obj["source_ref"].startswith("indicator--")] == []
    assert "update-check.example.com" not in json.dumps(masked)


TACTICS = ("abduction", "family_threats", "interpol_red_notice", "spyware", "assassination")
locations = st.fixed_dictionaries(
    {
        "country": st.sampled_from(("DE", "FR", "TR", "LV")),
        "geo_precision": st.sampled_from(("point", "place", "admin1", "country")),
        "obfuscated": st.booleans(),
    }
)
specs = st.fixed_dictionaries(
    {
        "tactics": st.lists(st.sampled_from(TACTICS), min_size=1, max_size=4, unique=True),
        "tlp": st.sampled_from(tuple(TLP_IDS)),
        "locations": st.lists(locations, min_size=1, max_size=3),
        "summary": st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=40),  # what LongText accepts
        "mask": st.booleans(),
        "indicators": st.lists(
            st.one_of(
                st.builds(lambda a: {"kind": "ipv4-addr", "value": str(a)}, st.ip_addresses(v=4)),
                st.builds(lambda a: {"kind": "ipv6-addr", "value": str(a)}, st.ip_addresses(v=6)),
                st.builds(lambda h: {"kind": "file-sha256", "value": h.hex()}, st.binary(min_size=32, max_size=32)),
                st.builds(
                    lambda path: {"kind": "url", "value": "https://evil.example/" + path},
                    st.text(st.characters(categories=["L", "N", "P", "S"]), max_size=20),
                ),
            ),
            max_size=3,
        ),
    }
)


def location_input(spec: dict[str, Any]) -> dict[str, Any]:
    """A valid location of the drawn precision: a point gets coordinates, a place a name, a region a region."""
    detail: dict[str, Any] = {"point": {"lat": 48.85, "lon": 2.35}, "place": {"place": "Old town"}}.get(
        spec["geo_precision"], {}
    )
    if spec["geo_precision"] == "admin1":
        detail = {"admin1": "Region"}
    return {**spec, **detail}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs)
def test_generated_incidents_always_validate(node: Node, spec: dict[str, Any]) -> None:
    with node.store.writing() as session:
        session.execute(delete(Incident))
    incident = store(
        node,
        tactics=spec["tactics"],
        tlp=spec["tlp"],
        summary=spec["summary"].strip(),
        locations=[location_input(location) for location in spec["locations"]],
        indicators=spec["indicators"],
    )

    bundle = exported([incident], mask_free_text=spec["mask"])
    patterns = [obj["pattern"] for obj in objects_of(bundle, "indicator")]
    assert len(patterns) == (0 if spec["mask"] else len(incident.indicators))
    assert [problem for pattern in patterns for problem in run_validator(pattern, stix_version="2.1")] == []

    [stix_incident] = objects_of(bundle, "incident")
    assert stix_incident["object_marking_refs"] == [TLP_IDS[spec["tlp"]]]
    shared = tnr(stix_incident)["locations"]
    assert len(shared) == len(incident.locations)
    for stored, location in zip(incident.locations, shared, strict=True):
        assert location["country"] == stored.country
        if stored.obfuscated:
            assert location == {"country": stored.country, "geo_precision": "country", "obfuscated": True}
    if spec["mask"]:
        assert "description" not in stix_incident
