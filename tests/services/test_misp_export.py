"""`export --format misp` through the export service: the incidents a reader may read and the alerts about them as
MISP events, loaded back with PyMISP; free text masked below AMBER; never a person. Both databases."""

from __future__ import annotations

import io
import json
from typing import Any

from pymisp import MISPEvent

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.services import actors, alerts, exports, incidents, persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga-de", "officer", "DE")
FRENCH = Principal(None, "fabien-fr", "officer", "FR")


def exported(node: Node, principal: Principal, flt: IncidentFilter | None = None) -> tuple[str, list[MISPEvent]]:
    sink = io.BytesIO()
    result = exports.export_incidents(node, principal, flt or IncidentFilter(), "misp", sink)
    assert result.format == "misp"
    text = sink.getvalue().decode("utf-8")
    events = []
    for item in json.loads(text)["response"]:
        event = MISPEvent()
        event.load(item)
        events.append(event)
    return text, events


def by_uuid(events: list[MISPEvent]) -> dict[str, MISPEvent]:
    return {event.uuid: event for event in events}


def test_incidents_then_the_alerts_about_them(node: Node) -> None:
    actor = actors.create_actor(node, OPERATOR, {"name": "Consulate General", "actor_type": "diplomatic_mission"})
    person = persons.create_person(node, GERMAN, {"identity": {"full_name": "Dilnoza Karimova"}})
    amber = incidents.create_incident(
        node,
        GERMAN,
        incident_data(
            tlp="amber",
            persons=[{"id": str(person.id), "role": "target"}],
            actors=[{"id": str(actor.id), "role": "perpetrator"}],
        ),
    )
    green = incidents.create_incident(node, OPERATOR, incident_data(tlp="green", title="Green one"))
    alert: dict[str, Any] = {
        "title": "Watch the consulate",
        "summary": "Summons of diaspora members.",
        "level": "warning",
        "tlp": "amber",
        "audience": [{"kind": "eu"}],
        "incident_ids": [str(amber.id)],
        "actor_ids": [str(actor.id)],
    }
    published = alerts.publish_alert(node, GERMAN, alerts.create_alert(node, GERMAN, alert).id)
    alerts.create_alert(node, GERMAN, {**alert, "title": "Still a draft"})
    elsewhere = incidents.create_incident(node, OPERATOR, incident_data(title="Elsewhere", origin_countries=["CN"]))
    alerts.publish_alert(
        node,
        OPERATOR,
        alerts.create_alert(node, OPERATOR, {**alert, "incident_ids": [str(elsewhere.id)], "actor_ids": []}).id,
    )

    text, events = exported(node, OPERATOR, IncidentFilter(origin=["UZ"]))

    found = by_uuid(events)
    assert set(found) == {str(amber.id), str(green.id), str(published.id)}  # not the draft, not the other alert
    assert found[str(amber.id)].info == amber.title
    assert "tlp:amber" in [tag.name for tag in found[str(amber.id)].tags]
    assert [a.value for a in found[str(amber.id)].attributes if a.type == "threat-actor"] == ["Consulate General"]
    alert_event = found[str(published.id)]
    assert alert_event.info == "Watch the consulate"
    assert [obj.name for obj in alert_event.objects if obj.name == "incident"] == ["incident"]
    assert [a.value for a in alert_event.attributes if a.type == "threat-actor"] == ["Consulate General"]
    # GREEN goes to partners without free text; AMBER keeps it
    assert green.summary not in json.dumps(json.loads(found[str(green.id)].to_json()))
    assert amber.summary in found[str(amber.id)].to_json()
    for secret in ("Dilnoza", person.pseudonym):
        assert secret not in text


def test_a_reader_exports_only_what_they_read(node: Node) -> None:
    german = incidents.create_incident(node, GERMAN, incident_data(tlp="amber", title="German coding"))
    shared = incidents.create_incident(node, OPERATOR, incident_data(tlp="amber", title="Node's own"))
    data: dict[str, Any] = {"summary": "S", "level": "information", "tlp": "amber", "incident_ids": [str(shared.id)]}
    french = [{"kind": "jurisdiction", "value": "FR"}]
    to_france = alerts.publish_alert(
        node, OPERATOR, alerts.create_alert(node, OPERATOR, {**data, "title": "To FR", "audience": french}).id
    )
    alerts.publish_alert(
        node, OPERATOR, alerts.create_alert(node, OPERATOR, {**data, "title": "To EU", "audience": [{"kind": "eu"}]}).id
    )

    _, events = exported(node, FRENCH)

    assert set(by_uuid(events)) == {str(shared.id), str(to_france.id)}
    assert str(german.id) not in by_uuid(events)
