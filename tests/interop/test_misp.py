"""MISP events of incidents and alerts (interop/misp.py), stored through the real services on both databases and read
back with PyMISP's own loader: fields, TLP and tnrwatch tags, obfuscated places, masking, no persons, stable uuids."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pymisp import MISPEvent

from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.incident import IncidentOut
from tnrwatch.interop import misp
from tnrwatch.interop.stix import WITHHELD_NOTE
from tnrwatch.services import actors, alerts, incidents, persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

OPERATOR = Principal.operator()
FRENCH = Principal(None, "fabien-fr", "officer", "FR")


def loaded(event: MISPEvent) -> MISPEvent:
    """The event as a MISP instance would read it: through JSON and PyMISP's loader."""
    text = json.dumps(misp.events_document([event])["response"][0])
    back = MISPEvent()
    back.load(text)
    return back


def tags(event: MISPEvent) -> list[str]:
    return [tag.name for tag in event.tags]


def objects_named(event: MISPEvent, name: str) -> list[Any]:
    return [obj for obj in event.objects if obj.name == name]


def values(misp_object: Any) -> dict[str, Any]:
    return {attribute.object_relation: attribute.value for attribute in misp_object.attributes}


def an_incident(node: Node, **changes: Any) -> IncidentOut:
    return incidents.create_incident(node, OPERATOR, incident_data(**changes))


def test_an_incident_event_carries_its_coding_as_objects_and_tags(node: Node) -> None:
    state = actors.create_actor(node, OPERATOR, {"name": "Republic of Example", "actor_type": "state", "country": "UZ"})
    person = persons.create_person(node, OPERATOR, {"identity": {"full_name": "Dilnoza Karimova"}})
    incident = an_incident(
        node,
        tactics=["abduction", "interpol_red_notice"],
        origin_countries=["UZ", "TJ"],
        date_start="2021-03-15",
        date_precision="month",
        verification="verified",
        tlp="amber+strict",
        target_count=3,
        persons=[{"id": str(person.id), "role": "target"}],
        actors=[{"id": str(state.id), "role": "perpetrator"}],
    )

    event = loaded(misp.incident_event(incident, [state], mask_free_text=False))

    assert event.uuid == str(incident.id)
    assert event.info == incident.title
    assert str(event.date) == "2021-03-01"
    assert (int(event.distribution), int(event.analysis), int(event.threat_level_id)) == (0, 2, 4)
    assert tags(event)[0] == "tlp:amber+strict"
    assert set(tags(event)) >= {
        'tnrwatch:tactic="abduction"',
        'tnrwatch:tactic="interpol_red_notice"',
        'tnrwatch:origin-country="TJ"',
        'tnrwatch:origin-country="UZ"',
        'tnrwatch:host-country="TR"',
        'tnrwatch:target-category="activist"',
        'tnrwatch:verification="verified"',
        'tnrwatch:date-precision="month"',
        'tnrwatch:mass-event="true"',
        'tnrwatch:target-count="3"',
        f'tnrwatch:taxonomy-version="{incident.taxonomy_version}"',
    }
    assert {tag for tag in tags(event) if tag.startswith('tnrwatch:tactic-family="')} == {
        f'tnrwatch:tactic-family="{family}"' for family in incident.tactic_families
    }
    [main] = objects_named(event, "incident")
    assert values(main) == {"name": incident.title, "description": incident.summary}
    assert main.first_seen == dt.datetime(2021, 3, 1, tzinfo=dt.UTC)
    assert main.last_seen.date() == dt.date(2021, 3, 31)
    [place] = objects_named(event, "geolocation")
    assert values(place) == {"countrycode": "TR", "city": "Istanbul", "latitude": 41.01, "longitude": 28.97}
    assert [reference.referenced_uuid for reference in main.references] == [place.uuid]
    [actor] = [attribute for attribute in event.attributes if attribute.type == "threat-actor"]
    assert (actor.value, actor.category) == ("Republic of Example", "Attribution")
    assert {tag.name for tag in actor.tags} == {
        'tnrwatch:actor-type="state"',
        'tnrwatch:actor-role="perpetrator"',
        'tnrwatch:actor-country="UZ"',
    }
    text = event.to_json()
    assert "Dilnoza" not in text
    assert person.pseudonym not in text  # not even the pseudonym


@pytest.mark.parametrize(("tlp", "distribution"), [("clear", 3), ("green", 1), ("amber", 0), ("red", 0)])
def test_the_tlp_tag_and_distribution_follow_the_marking(node: Node, tlp: str, distribution: int) -> None:
    event = loaded(misp.incident_event(an_incident(node, tlp=tlp), mask_free_text=False))

    assert [tag for tag in tags(event) if tag.startswith("tlp:")] == [f"tlp:{tlp}"]
    assert int(event.distribution) == distribution


def test_an_obfuscated_place_leaves_as_its_country_code_and_masking_drops_free_text(node: Node) -> None:
    incident = an_incident(
        node,
        locations=[
            {"country": "DE", "geo_precision": "point", "admin1": "Berlin", "place": "Safe house", "lat": 52.52,
             "lon": 13.405, "obfuscated": True},
        ],
    )  # fmt: skip

    event = loaded(misp.incident_event(incident, mask_free_text=True))

    [place] = objects_named(event, "geolocation")
    assert values(place) == {"countrycode": "DE"}
    [main] = objects_named(event, "incident")
    assert values(main) == {"name": incident.title}
    text = event.to_json()
    for secret in ("52.52", "13.405", "Safe house", "Berlin", incident.summary):
        assert secret not in text


def published_alert(node: Node, incident: IncidentOut, **changes: Any) -> AlertOut:
    data: dict[str, Any] = {
        "title": "Abductions near bus stations",
        "summary": "Two more cases this week.",
        "level": "urgent",
        "tlp": "amber",
        "audience": [{"kind": "jurisdiction", "value": "FR"}],
        "incident_ids": [str(incident.id)],
        "expires_at": "2099-01-01T00:00:00Z",
    }
    data.update(changes)
    alert = alerts.publish_alert(node, OPERATOR, alerts.create_alert(node, OPERATOR, data).id)
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "corroboration", "text": "Seen in Lyon too."})
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "opinion", "opinion": "agree", "text": "Same pattern."})
    return alerts.get_alert(node, OPERATOR, alert.id)


def test_an_alert_event_holds_its_incidents_comments_and_level(node: Node) -> None:
    incident = an_incident(node, verification="reported")
    alert = published_alert(node, incident)

    event = loaded(misp.alert_event(alert, [incident], mask_free_text=False))

    assert event.uuid == str(alert.id)
    assert event.info == alert.title
    assert (int(event.threat_level_id), int(event.analysis), event.published) == (1, 1, True)
    assert {"tlp:amber", 'tnrwatch:alert-level="urgent"', 'tnrwatch:alert-status="published"'} <= set(tags(event))
    assert 'tnrwatch:tactic="abduction"' in tags(event)
    attributes = {attribute.comment: attribute for attribute in event.attributes}
    assert attributes["summary"].value == alert.summary
    assert attributes["expires"].value == dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    assert values(objects_named(event, "incident")[0])["name"] == incident.title
    assert [note.note for note in event.notes] == ["Seen in Lyon too."]
    assert [(int(opinion.opinion), opinion.comment) for opinion in event.opinions] == [(100, "Same pattern.")]
    assert "fabien-fr" not in event.to_json()

    withdrawn = alerts.withdraw_alert(node, OPERATOR, alert.id)
    masked = loaded(misp.alert_event(withdrawn, [incident], mask_free_text=True))
    assert masked.published is False
    assert 'tnrwatch:alert-status="withdrawn"' in tags(masked)
    assert "summary" not in {attribute.comment for attribute in masked.attributes}
    assert [note.note for note in masked.notes] == [WITHHELD_NOTE]
    assert [opinion.comment for opinion in masked.opinions] == [misp.WITHHELD_EXPLANATION]
    for secret in (alert.summary, "Seen in Lyon", "Same pattern", incident.summary):
        assert secret not in masked.to_json()


def test_drafts_are_never_events_and_uuids_are_stable(node: Node) -> None:
    incident = an_incident(node)
    draft = alerts.create_alert(
        node, OPERATOR, {"title": "D", "summary": "S", "level": "warning", "tlp": "amber", "audience": [{"kind": "eu"}]}
    )
    with pytest.raises(ValueError, match="draft"):
        misp.alert_event(draft, [], mask_free_text=False)

    alert = published_alert(node, incident)
    first = misp.events_document(
        [misp.incident_event(incident, mask_free_text=False), misp.alert_event(alert, [incident], mask_free_text=False)]
    )
    again = misp.events_document(
        [misp.incident_event(incident, mask_free_text=False), misp.alert_event(alert, [incident], mask_free_text=False)]
    )
    assert first == again


SPYWARE_INDICATORS = [
    {"kind": "domain-name", "value": "update-check.example.com", "note": "Contacted by the phone"},
    {"kind": "ipv4-addr", "value": "192.0.2.10", "first_seen": "2021-03-01", "last_seen": "2021-03-20"},
    {"kind": "ipv6-addr", "value": "2001:db8::a"},
    {"kind": "url", "value": "https://update-check.example.com/a"},
    {"kind": "file-sha256", "value": "ab" * 32},
    {"kind": "email-addr", "value": "support@example.org"},
]


def indicator_attributes(event: MISPEvent) -> list[tuple[str, str, str, bool, str]]:
    return [
        (attribute.type, attribute.category, attribute.value, attribute.to_ids, attribute.comment)
        for attribute in event.attributes
        if attribute.type != "threat-actor"
    ]


def test_indicators_are_attributes_for_intrusion_detection_at_amber_and_above(node: Node) -> None:
    incident = an_incident(node, tactics=["spyware"], tlp="amber", indicators=SPYWARE_INDICATORS)

    event = loaded(misp.incident_event(incident, mask_free_text=False))

    assert indicator_attributes(event) == [
        ("domain", "Network activity", "update-check.example.com", True, "Contacted by the phone"),
        ("ip-dst", "Network activity", "192.0.2.10", True, ""),
        ("ip-dst", "Network activity", "2001:db8::a", True, ""),
        ("url", "Network activity", "https://update-check.example.com/a", True, ""),
        ("sha256", "Payload delivery", "ab" * 32, True, ""),
        ("email-src", "Payload delivery", "support@example.org", True, ""),
    ]
    seen = event.attributes[1]
    assert seen.first_seen == dt.datetime(2021, 3, 1, tzinfo=dt.UTC)
    assert seen.last_seen == dt.datetime(2021, 3, 20, 23, 59, 59, tzinfo=dt.UTC)
    again = loaded(misp.incident_event(incidents.get_incident(node, OPERATOR, incident.id), mask_free_text=False))
    assert [a.uuid for a in again.attributes] == [a.uuid for a in event.attributes]
    assert len({a.uuid for a in event.attributes}) == len(SPYWARE_INDICATORS)


@pytest.mark.parametrize("tlp", ["clear", "green"])
def test_an_event_below_amber_carries_no_indicator(node: Node, tlp: str) -> None:
    incident = an_incident(node, tactics=["spyware"], tlp=tlp, indicators=SPYWARE_INDICATORS)
    event = loaded(misp.incident_event(incident, mask_free_text=True))
    assert indicator_attributes(event) == []
    assert "update-check.example.com" not in json.dumps(misp.events_document([event]))


def test_an_alert_event_carries_its_incidents_indicators_when_amber(node: Node) -> None:
    incident = an_incident(
        node, tactics=["spyware"], tlp="green", verification="verified", indicators=SPYWARE_INDICATORS[:1]
    )
    data = {
        "title": "Spyware against exiled journalists",
        "summary": "Phones of two journalists were infected.",
        "level": "warning",
        "audience": [{"kind": "eu"}],
        "incident_ids": [str(incident.id)],
    }
    amber = alerts.publish_alert(node, OPERATOR, alerts.create_alert(node, OPERATOR, {**data, "tlp": "amber"}).id)
    green = alerts.publish_alert(node, OPERATOR, alerts.create_alert(node, OPERATOR, {**data, "tlp": "green"}).id)
    amber_event = loaded(misp.alert_event(amber, [incident], mask_free_text=False))
    assert [a.value for a in amber_event.attributes if a.to_ids] == ["update-check.example.com"]
    assert [
        a.value for a in loaded(misp.alert_event(green, [incident], mask_free_text=True)).attributes if a.to_ids
    ] == []
    # the same indicator in another event has a uuid of that event's own (MISP keeps attribute uuids unique)
    own = loaded(misp.incident_event(incident.model_copy(update={"tlp": "amber"}), mask_free_text=False))
    assert [a.value for a in own.attributes if a.to_ids] == ["update-check.example.com"]
    assert {a.uuid for a in amber_event.attributes}.isdisjoint({a.uuid for a in own.attributes})
