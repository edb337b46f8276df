"""STIX 2.1 export of alerts: report or grouping, notes and opinions, the alert extension, markings, masking and
revocation. Alerts, incidents and actors are stored through the real services on both databases, and every bundle is
checked by the OASIS validator (strict: no errors, no warnings)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_string

from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.incident import IncidentOut
from tnrwatch.interop.stix import (
    ALERT_EXTENSION_ID,
    TNR_EXTENSION_ID,
    WITHHELD_NOTE,
    alert_bundle,
    alert_objects,
)
from tnrwatch.services import actors, alerts, incidents, persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data
from .test_stix import TLP_IDS, objects_of

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga-de", "officer", "DE")
FRENCH = Principal(None, "fabien-fr", "officer", "FR")
ANALYST = Principal(None, "ana-eu", "analyst")
NODE_NAME = "EU test node"


def published(
    node: Node, *, incident_list: list[IncidentOut], actor_ids: list[str] | None = None, **changes: Any
) -> AlertOut:
    data: dict[str, Any] = {
        "title": "Surge of forced returns from Türkiye",
        "summary": "Three deportations of Uzbek dissidents in a week.",
        "level": "urgent",
        "tlp": "amber",
        "audience": [{"kind": "eu"}, {"kind": "jurisdiction", "value": "FR"}, {"kind": "partner", "value": "NGO X"}],
        "incident_ids": [str(incident.id) for incident in incident_list],
        "actor_ids": actor_ids or [],
    }
    data.update(changes)
    draft = alerts.create_alert(node, GERMAN, data)
    return alerts.publish_alert(node, GERMAN, draft.id)


def exported(node: Node, alert: AlertOut, incident_list: list[IncidentOut], **options: Any) -> dict[str, Any]:
    """The alert's objects as a bundle, after the validator found nothing wrong with it."""
    actor_list = [actors.get_actor(node, OPERATOR, actor_id) for actor_id in alert.actor_ids]
    objects = alert_objects(
        alert,
        incident_list,
        actor_list,
        options.pop("persons", []),
        node_name=NODE_NAME,
        taxonomy=node.taxonomy,
        mask_free_text=options.pop("mask_free_text", False),
    )
    bundle = alert_bundle(objects)
    text = json.dumps(bundle, ensure_ascii=False)
    results = validate_string(text, ValidationOptions(strict=True))
    problems = [str(error) for error in results.errors] + [str(warning) for warning in results.warnings]
    assert results.is_valid, problems
    assert problems == []
    return bundle


def alert_extension(stix_object: dict[str, Any]) -> dict[str, Any]:
    extension: dict[str, Any] = stix_object["extensions"][ALERT_EXTENSION_ID]
    return extension


def test_a_confirmed_alert_is_a_report_with_its_coding(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data(verification="verified", tlp="green"))
    actor = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    expiry = dt.datetime(2099, 5, 1, 12, 30, 15, 250000, tzinfo=dt.UTC)
    alert = published(node, incident_list=[incident], actor_ids=[str(actor.id)], expires_at=expiry.isoformat())

    bundle = exported(node, alert, [incident])

    assert objects_of(bundle, "grouping") == []
    [report] = objects_of(bundle, "report")
    assert report["id"] == f"report--{alert.id}"
    assert report["name"] == alert.title
    assert report["description"] == alert.summary
    assert report["report_types"] == ["threat-report"]
    assert report["object_refs"] == [f"incident--{incident.id}", f"threat-actor--{actor.id}"]
    assert report["object_marking_refs"] == [TLP_IDS["amber"]]
    assert report["created_by_ref"] == objects_of(bundle, "identity")[-1]["id"]
    assert "revoked" not in report
    assert alert.published_at is not None
    assert abs(dt.datetime.fromisoformat(report["published"]) - alert.published_at) < dt.timedelta(milliseconds=1)
    assert abs(dt.datetime.fromisoformat(report["modified"]) - alert.updated_at) < dt.timedelta(milliseconds=1)
    assert alert_extension(report) == {
        "extension_type": "property-extension",
        "level": "urgent",
        "status": "published",
        "expires": "2099-05-01T12:30:15.250Z",
        "audience_kinds": ["eu", "jurisdiction", "partner"],
    }
    text = json.dumps(bundle)
    assert "NGO X" not in text  # partner names stay on the node
    definitions = {obj["id"]: obj for obj in objects_of(bundle, "extension-definition")}
    assert set(definitions) == {TNR_EXTENSION_ID, ALERT_EXTENSION_ID}
    assert definitions[ALERT_EXTENSION_ID]["extension_types"] == ["property-extension"]
    # the incident keeps its own marking; the actor, linked to no incident, takes the alert's
    [stix_incident] = objects_of(bundle, "incident")
    assert stix_incident["object_marking_refs"] == [TLP_IDS["green"]]
    assert objects_of(bundle, "threat-actor")[0]["object_marking_refs"] == [TLP_IDS["amber"]]
    assert [obj["id"] for obj in objects_of(bundle, "marking-definition")] == sorted(
        [TLP_IDS["green"], TLP_IDS["amber"]]
    )


def test_an_alert_carries_its_incidents_indicators_and_a_masked_one_does_not(node: Node) -> None:
    indicators = [
        {"kind": "url", "value": "https://parcel-track.example.net/p/1", "note": "Sent by text message"},
        {"kind": "email-addr", "value": "notice@parcel-track.example.net"},
    ]
    incident = incidents.create_incident(
        node, GERMAN, incident_data(tactics=["spyware"], tlp="amber", verification="verified", indicators=indicators)
    )
    alert = published(node, incident_list=[incident])

    bundle = exported(node, alert, [incident])

    found = objects_of(bundle, "indicator")
    assert sorted(obj["pattern"] for obj in found) == [
        "[email-addr:value = 'notice@parcel-track.example.net']",
        "[url:value = 'https://parcel-track.example.net/p/1']",
    ]
    links = {(obj["source_ref"], obj["target_ref"]) for obj in objects_of(bundle, "relationship")}
    assert {(obj["id"], f"incident--{incident.id}") for obj in found} <= links
    [report] = objects_of(bundle, "report")
    assert report["object_refs"] == [f"incident--{incident.id}"]  # the alert names its incidents, not their parts
    assert objects_of(exported(node, alert, [incident], mask_free_text=True), "indicator") == []


@pytest.mark.parametrize("verification", ["reported", "disputed", "refuted"])
def test_an_unconfirmed_alert_is_a_grouping_of_suspicious_activity(node: Node, verification: str) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data(verification=verification))
    alert = published(node, incident_list=[incident])

    bundle = exported(node, alert, [incident])

    assert objects_of(bundle, "report") == []
    [grouping] = objects_of(bundle, "grouping")
    assert grouping["id"] == f"grouping--{alert.id}"
    assert grouping["context"] == "suspicious-activity"
    assert grouping["object_refs"] == [f"incident--{incident.id}"]


def test_an_alert_about_nothing_shared_refers_to_the_node(node: Node) -> None:
    alert = published(node, incident_list=[])

    bundle = exported(node, alert, [])

    [grouping] = objects_of(bundle, "grouping")
    assert grouping["object_refs"] == [grouping["created_by_ref"]]
    assert objects_of(bundle, "marking-definition")[0]["id"] == TLP_IDS["amber"]


def test_comments_become_notes_and_opinions_without_their_authors(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data())
    alert = published(node, incident_list=[incident], tlp="red")
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "corroboration", "text": "We saw the same car in Lyon."})
    for opinion in ("agree", "disagree", "unsure"):
        alerts.add_comment(node, ANALYST, alert.id, {"kind": "opinion", "opinion": opinion, "text": f"I {opinion}"})
    alert = alerts.get_alert(node, OPERATOR, alert.id)

    bundle = exported(node, alert, [incident])

    report_id = f"report--{alert.id}"
    [note] = objects_of(bundle, "note")
    assert note["content"] == "We saw the same car in Lyon."
    assert note["object_refs"] == [report_id]
    assert note["object_marking_refs"] == [TLP_IDS["red"]]
    opinions = objects_of(bundle, "opinion")
    assert [(obj["opinion"], obj["explanation"]) for obj in opinions] == [
        ("agree", "I agree"),
        ("disagree", "I disagree"),
        ("neutral", "I unsure"),
    ]
    assert all(obj["object_refs"] == [report_id] for obj in opinions)
    text = json.dumps(bundle)
    for author in ("fabien-fr", "ana-eu", "olga-de"):
        assert author not in text
    assert "authors" not in note
    assert len({obj["id"] for obj in [note, *opinions]}) == 4


def test_masking_drops_the_alerts_and_comments_free_text(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data())
    alert = published(node, incident_list=[incident])
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "corroboration", "text": "Seen in Lyon"})
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "opinion", "opinion": "agree", "text": "Same pattern"})
    alert = alerts.get_alert(node, OPERATOR, alert.id)

    bundle = exported(node, alert, [incident], mask_free_text=True)

    text = json.dumps(bundle)
    for secret in (alert.summary, "Seen in Lyon", "Same pattern", incident.summary):
        assert secret not in text
    assert "description" not in objects_of(bundle, "report")[0]
    assert objects_of(bundle, "note")[0]["content"] == WITHHELD_NOTE
    assert "explanation" not in objects_of(bundle, "opinion")[0]
    assert objects_of(bundle, "opinion")[0]["opinion"] == "agree"


def test_a_withdrawn_alert_is_revoked_and_a_draft_is_never_shared(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data())
    alert = published(node, incident_list=[incident])
    before = exported(node, alert, [incident])
    withdrawn = alerts.withdraw_alert(node, GERMAN, alert.id)

    after = exported(node, withdrawn, [incident])

    [report] = objects_of(after, "report")
    assert report["revoked"] is True
    assert alert_extension(report)["status"] == "withdrawn"
    assert report["id"] == objects_of(before, "report")[0]["id"]
    assert report["modified"] > objects_of(before, "report")[0]["modified"]
    assert after["id"] != before["id"]

    draft = alerts.create_alert(
        node,
        GERMAN,
        {"title": "Draft", "summary": "Unsent", "level": "warning", "tlp": "green", "audience": [{"kind": "eu"}]},
    )
    with pytest.raises(ValueError, match="draft"):
        alert_objects(draft, [], [], [], node_name=NODE_NAME, taxonomy=node.taxonomy, mask_free_text=False)


def test_ids_are_deterministic_and_stable_when_the_alert_is_confirmed(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data(verification="reported"))
    alert = published(node, incident_list=[incident])
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "corroboration", "text": "Seen"})
    alert = alerts.get_alert(node, OPERATOR, alert.id)

    first = exported(node, alert, [incident])
    again = exported(node, alerts.get_alert(node, OPERATOR, alert.id), [incident])
    assert first == again

    verified = incidents.get_incident(node, OPERATOR, incident.id).model_copy(update={"verification": "verified"})
    confirmed = exported(node, alert, [verified])
    assert (
        objects_of(confirmed, "report")[0]["id"].split("--")[1] == objects_of(first, "grouping")[0]["id"].split("--")[1]
    )
    assert objects_of(confirmed, "note")[0]["id"] == objects_of(first, "note")[0]["id"]  # the comment keeps its id
    assert objects_of(confirmed, "note")[0]["object_refs"] == [f"report--{alert.id}"]


def test_pseudonyms_come_with_their_incident_and_identities_never(node: Node) -> None:
    person = persons.create_person(node, OPERATOR, {"identity": {"full_name": "Zarina Example-Name"}})
    incident = incidents.create_incident(
        node, OPERATOR, incident_data(persons=[{"id": str(person.id), "role": "target"}])
    )
    alert = published(node, incident_list=[incident])
    with_identity = persons.get_person(node, OPERATOR, person.id, with_identity=True)

    bundle = exported(node, alert, [incident], persons=[with_identity])

    assert "Zarina" not in json.dumps(bundle, ensure_ascii=False)
    assert person.pseudonym in [obj["name"] for obj in objects_of(bundle, "identity")]


def test_a_sighting_goes_with_its_note_as_a_sighting_of_the_threat_actor_in_a_country(node: Node) -> None:
    incident = incidents.create_incident(node, GERMAN, incident_data(verification="verified"))
    agency = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service", "actor_type": "intelligence_service"}
    )
    alert = published(node, incident_list=[incident], actor_ids=[str(agency.id)])
    seen = {"kind": "corroboration", "sighted_actor_id": str(agency.id)}
    alerts.add_comment(node, FRENCH, alert.id, {**seen, "text": "Their officers in Lyon.", "sighted_country": "FR"})
    alerts.add_comment(node, ANALYST, alert.id, {**seen, "text": "Seen, we cannot say where."})
    alerts.add_comment(node, FRENCH, alert.id, {"kind": "corroboration", "text": "No sighting in this one."})
    alert = alerts.get_alert(node, OPERATOR, alert.id)

    bundle = exported(node, alert, [incident])

    report_id = f"report--{alert.id}"
    in_lyon, unplaced, plain = objects_of(bundle, "note")
    [where] = objects_of(bundle, "location")
    assert where == {
        "type": "location",
        "spec_version": "2.1",
        "id": where["id"],
        "created": "2026-11-30T00:00:00.000Z",
        "modified": "2026-11-30T00:00:00.000Z",
        "country": "FR",
        "object_marking_refs": [TLP_IDS["amber"]],
    }
    first, second = objects_of(bundle, "sighting")
    assert in_lyon["object_refs"] == [report_id, first["id"]]
    assert unplaced["object_refs"] == [report_id, second["id"]]
    assert plain["object_refs"] == [report_id]
    for sighting, note in ((first, in_lyon), (second, unplaced)):
        assert sighting["sighting_of_ref"] == f"threat-actor--{agency.id}"
        assert sighting["first_seen"] == sighting["last_seen"] == sighting["created"] == note["created"]
        assert sighting["count"] == 1
        assert sighting["object_marking_refs"] == [TLP_IDS["amber"]]
        assert sighting["created_by_ref"] == note["created_by_ref"]
    assert first["where_sighted_refs"] == [where["id"]]
    assert "where_sighted_refs" not in second
    text = json.dumps(bundle)
    for author in ("fabien-fr", "ana-eu", "olga-de"):
        assert author not in text
    # the same country under the same marking is the same location in every alert; under another, another one
    other = published(node, incident_list=[incident], actor_ids=[str(agency.id)])
    alerts.add_comment(node, FRENCH, other.id, {**seen, "text": "Again.", "sighted_country": "FR"})
    other_bundle = exported(node, alerts.get_alert(node, OPERATOR, other.id), [incident])
    assert objects_of(other_bundle, "location") == [where]
    red = published(node, incident_list=[incident], actor_ids=[str(agency.id)], tlp="red")
    alerts.add_comment(node, FRENCH, red.id, {**seen, "text": "Again.", "sighted_country": "FR"})
    [red_where] = objects_of(exported(node, alerts.get_alert(node, OPERATOR, red.id), [incident]), "location")
    assert red_where["id"] != where["id"]
    assert red_where["object_marking_refs"] == [TLP_IDS["red"]]


def test_a_sighting_of_an_actor_left_out_of_the_export_is_left_out_too(node: Node) -> None:
    agency = actors.create_actor(node, OPERATOR, {"name": "Consulate", "actor_type": "diplomatic_mission"})
    alert = published(node, incident_list=[], actor_ids=[str(agency.id)])
    alerts.add_comment(
        node,
        FRENCH,
        alert.id,
        {"kind": "corroboration", "text": "Seen.", "sighted_actor_id": str(agency.id), "sighted_country": "FR"},
    )
    alert = alerts.get_alert(node, OPERATOR, alert.id)

    objects = alert_objects(alert, [], [], [], node_name=NODE_NAME, taxonomy=node.taxonomy, mask_free_text=False)

    assert [obj for obj in objects if obj["type"] in ("sighting", "location")] == []
    [note] = [obj for obj in objects if obj["type"] == "note"]
    assert note["object_refs"] == [f"grouping--{alert.id}"]
