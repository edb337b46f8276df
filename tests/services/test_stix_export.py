"""STIX bundles through the export service: what the reader may read and nothing more, persons as pseudonyms only,
every bundle valid (stix2-validator, strict). Both databases."""

from __future__ import annotations

import io
import json

import pytest
from stix2validator import ValidationOptions, validate_string

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.errors import InvalidInputError
from tnrwatch.services import actors, exports, incidents, persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga", "officer", "DE")
FRENCH = Principal(None, "fabien", "officer", "FR")


def exported(node: Node, principal: Principal, flt: IncidentFilter | None = None) -> tuple[str, dict[str, object]]:
    sink = io.BytesIO()
    result = exports.export_incidents(node, principal, flt or IncidentFilter(), "stix", sink)
    text = sink.getvalue().decode("utf-8")
    validated = validate_string(text, ValidationOptions(strict=True))
    assert validated.is_valid, [str(error) for error in validated.errors]
    assert result.format == "stix"
    return text, json.loads(text)


def of_type(bundle: dict[str, object], kind: str) -> list[dict[str, object]]:
    objects = bundle["objects"]
    assert isinstance(objects, list)
    return [o for o in objects if o["type"] == kind]


def test_a_bundle_holds_incidents_actors_and_only_pseudonyms(node: Node) -> None:
    person = persons.create_person(
        node, GERMAN, {"identity": {"full_name": "Dilnoza Karimova", "contact": "+49 30 1234567"}}
    )
    actor = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    incidents.create_incident(
        node,
        GERMAN,
        incident_data(
            origin_countries=["UZ"],
            persons=[{"id": str(person.id), "role": "target"}],
            actors=[{"id": str(actor.id), "role": "perpetrator"}],
        ),
    )
    text, bundle = exported(node, GERMAN)
    assert len(of_type(bundle, "incident")) == 1
    assert len(of_type(bundle, "threat-actor")) == 1
    [identity] = [o for o in of_type(bundle, "identity") if o.get("identity_class") == "individual"]
    assert identity["name"] == person.pseudonym
    assert "Karimova" not in text
    assert "1234567" not in text


def test_a_bundle_holds_only_what_its_reader_may_read(node: Node) -> None:
    incidents.create_incident(node, GERMAN, incident_data(title="German amber", tlp="amber"))
    incidents.create_incident(node, OPERATOR, incident_data(title="Node green", tlp="green"))
    _, french = exported(node, FRENCH)
    assert [o["name"] for o in of_type(french, "incident")] == ["Node green"]
    _, german = exported(node, GERMAN)
    assert sorted(str(o["name"]) for o in of_type(german, "incident")) == ["German amber", "Node green"]


def test_a_bundle_too_large_is_refused_with_the_count(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(2):
        incidents.create_incident(node, OPERATOR, incident_data())
    monkeypatch.setattr(exports, "STIX_LIMIT", 1)
    with pytest.raises(InvalidInputError) as refused:
        exports.export_incidents(node, OPERATOR, IncidentFilter(), "stix", io.BytesIO())
    assert refused.value.errors[0].loc == ("filter",)
    assert "2 incidents match" in refused.value.errors[0].msg
