"""STIX import from a partner: a second node (the sender, SQLite) codes incidents, actors and an alert through the
real services and exports them with interop/stix.py; this node (both databases) imports them. Idempotency, newer
versions, the partner's own records only, markings and source kept, bad objects named, signed files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey
from sqlalchemy import delete, func, select

from tnrwatch.crypto import bundle_signature
from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.incident import IncidentOut
from tnrwatch.errors import ForbiddenError, NotFoundError
from tnrwatch.interop.stix import alert_bundle, alert_objects, bundle_of
from tnrwatch.interop.stix_read import uuid_of
from tnrwatch.services import actors, alerts, incidents, partners, persons, stix_import
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import (
    Actor,
    Alert,
    AlertAudience,
    AlertComment,
    Incident,
    Jurisdiction,
    OutboxEvent,
    Person,
    StixObject,
)
from tnrwatch.taxonomy import default_taxonomy

from ..factories import incident_data

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga", "officer", "DE")
FRENCH = Principal(None, "fabien", "officer", "FR")
PARTNER = "sender-node"
SENDER_NAME = "Sender node"
CODED = (
    "title",
    "summary",
    "date_start",
    "date_end",
    "date_precision",
    "origin_countries",
    "tactics",
    "target_categories",
    "host_state_role",
    "target_count",
    "mass_event",
    "verification",
    "tlp",
)


@pytest.fixture
def sender(tmp_path: Path, sqlite_template: Path) -> Iterator[Node]:
    """Another node, on its own SQLite database."""
    path = tmp_path / "sender.sqlite3"
    shutil.copyfile(sqlite_template, path)
    opened = Node.open(
        Settings(
            home=tmp_path / "sender-home",
            database_url=f"sqlite:///{path}",
            sqlite_synchronous="NORMAL",
            node_name=SENDER_NAME,
            key_wrap_strength="interactive",
        ),
        default_taxonomy(),
    )
    yield opened
    opened.close()


@pytest.fixture
def partner(node: Node) -> str:
    partners.add_partner(node, OPERATOR, PARTNER, "amber")
    return PARTNER


def shared(sender: Node, alert: AlertOut, *, mask: bool = False) -> list[dict[str, Any]]:
    """What the sender shares of an alert: every object, as JSON."""
    incident_list = [incidents.get_incident(sender, OPERATOR, incident_id) for incident_id in alert.incident_ids]
    actor_list = [actors.get_actor(sender, OPERATOR, actor_id) for actor_id in alert.actor_ids]
    parents = [actors.get_actor(sender, OPERATOR, a.parent_id) for a in actor_list if a.parent_id is not None]
    person_ids = sorted({link.id for incident in incident_list for link in incident.persons})
    person_list = [persons.get_person(sender, OPERATOR, person_id) for person_id in person_ids]
    return alert_objects(
        alert,
        incident_list,
        [*parents, *actor_list],
        person_list,
        node_name=SENDER_NAME,
        taxonomy=sender.taxonomy,
        mask_free_text=mask,
    )


def an_alert(sender: Node, tlp: str = "amber") -> AlertOut:
    """On the sender: a state and its agency, a target, an incident linking them, a published alert, a comment."""
    state = actors.create_actor(
        sender, OPERATOR, {"name": "Republic of Example", "actor_type": "state", "country": "UZ"}
    )
    agency = actors.create_actor(
        sender,
        OPERATOR,
        {"name": "State Security Service", "actor_type": "intelligence_service", "parent_id": str(state.id)},
    )
    person = persons.create_person(sender, OPERATOR, {"identity": {"full_name": "Dilnoza Karimova"}})
    incident = incidents.create_incident(
        sender,
        OPERATOR,
        incident_data(
            verification="reported",
            tlp=tlp,
            target_count=4,
            persons=[{"id": str(person.id), "role": "target"}],
            actors=[{"id": str(agency.id), "role": "perpetrator"}],
        ),
    )
    draft = alerts.create_alert(
        sender,
        OPERATOR,
        {
            "title": "Abductions near bus stations",
            "summary": "Two more cases this week.",
            "level": "urgent",
            "tlp": tlp,
            "audience": [{"kind": "partner", "value": "receiver"}, {"kind": "eu"}],
            "incident_ids": [str(incident.id)],
            "actor_ids": [str(agency.id)],
            "expires_at": "2099-01-01T00:00:00Z",
        },
    )
    alerts.publish_alert(sender, OPERATOR, draft.id)
    alerts.add_comment(sender, OPERATOR, draft.id, {"kind": "corroboration", "text": "Confirmed by our consulate."})
    alerts.add_comment(sender, OPERATOR, draft.id, {"kind": "opinion", "opinion": "unsure", "text": "Maybe."})
    return alerts.get_alert(sender, OPERATOR, draft.id)


def count(node: Node, model: Any, *conditions: Any) -> int:
    with node.store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def events(node: Node) -> list[tuple[str, str]]:
    with node.store.reading() as session:
        return [(row.topic, row.event) for row in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]


def outcome_of(report: stix_import.ImportReport, stix_id: str) -> stix_import.ObjectOutcome:
    [found] = [outcome for outcome in report.outcomes if outcome.id == stix_id]
    return found


def test_a_partners_alert_lands_with_its_records_and_a_second_import_changes_nothing(
    node: Node, sender: Node, partner: str
) -> None:
    alert = an_alert(sender)
    objects = shared(sender, alert)
    sent_incident = incidents.get_incident(sender, OPERATOR, alert.incident_ids[0])

    report = stix_import.import_objects(node, objects, source_partner=partner)

    assert report.failures == []
    assert report.counts == {"added": len(objects), "updated": 0, "unchanged": 0, "failed": 0}
    assert [outcome.id for outcome in report.outcomes] == [obj["id"] for obj in objects]  # in the order given
    records = {outcome.id.split("--")[0]: outcome.record for outcome in report.outcomes}
    assert records["incident"] == "incident"
    assert records["threat-actor"] == "actor"
    assert records["grouping"] == "alert"  # unconfirmed: its incident is only reported
    assert records["note"] == records["opinion"] == "comment"
    assert records["marking-definition"] is None
    # the incident, node-owned, with the partner's coding, its marking, its actor link, and no person
    imported = incidents.get_incident(node, OPERATOR, sent_incident.id)
    for name in CODED:
        assert getattr(imported, name) == getattr(sent_incident, name), name
    assert imported.locations == sent_incident.locations
    assert [(link.id, link.role) for link in imported.actors] == [(alert.actor_ids[0], "perpetrator")]
    assert imported.persons == []
    assert imported.provenance == f"STIX from partner {partner}"
    assert incidents.ownership(node, OPERATOR, imported.id).jurisdiction is None
    assert count(node, Person) == 0
    # actors, the agency under its state
    agency = actors.get_actor(node, OPERATOR, alert.actor_ids[0])
    assert agency.name == "State Security Service"
    assert agency.parent_id is not None
    assert actors.get_actor(node, OPERATOR, agency.parent_id).country == "UZ"
    # the alert: the partner's, published, for the EU level and every jurisdiction (AMBER is below RED)
    received = alerts.get_alert(node, OPERATOR, alert.id)
    assert (received.status, received.level, received.tlp) == ("published", "urgent", "amber")
    assert received.title == alert.title
    assert received.summary == alert.summary
    assert received.expires_at == alert.expires_at
    assert received.incident_ids == [sent_incident.id]
    assert received.actor_ids == alert.actor_ids
    assert received.jurisdiction is None
    with node.store.reading() as session:
        row = session.scalar(select(Alert).where(Alert.uuid == alert.id))
        assert row is not None
        assert (row.source_partner, row.stix_id) == (partner, f"grouping--{alert.id}")
        codes = set(session.scalars(select(Jurisdiction.code)))
    assert {(item.kind, item.value) for item in received.audience} == {("eu", "")} | {
        ("jurisdiction", code) for code in codes
    }
    assert alerts.get_alert(node, FRENCH, alert.id).id == alert.id  # a focal point here reads it
    assert [(c.kind, c.opinion, c.text, c.author) for c in received.comments] == [
        ("corroboration", None, "Confirmed by our consulate.", f"partner:{partner}"),
        ("opinion", "unsure", "Maybe.", f"partner:{partner}"),
    ]
    assert sorted(events(node)) == [("alert", "published"), ("incident", "created")]
    rows_before = count(node, StixObject)

    again = stix_import.import_objects(node, objects, source_partner=partner)

    assert again.counts == {"added": 0, "updated": 0, "unchanged": len(objects), "failed": 0}
    assert {outcome.message for outcome in again.outcomes} == {"this version is held already"}
    assert count(node, StixObject) == rows_before
    assert count(node, Incident) == 1
    assert count(node, Actor) == 2
    assert count(node, Alert) == 1
    assert count(node, AlertComment) == 2
    assert sorted(events(node)) == [("alert", "published"), ("incident", "created")]


def test_newer_versions_update_and_older_ones_change_nothing(node: Node, sender: Node, partner: str) -> None:
    alert = an_alert(sender)
    first = shared(sender, alert)
    stix_import.import_objects(node, first, source_partner=partner)
    incidents.update_incident(
        sender, OPERATOR, alert.incident_ids[0], {"verification": "verified", "tactics": ["spyware"]}
    )
    confirmed = alerts.withdraw_alert(sender, OPERATOR, alert.id)
    second = shared(sender, confirmed)

    report = stix_import.import_objects(node, second, source_partner=partner)

    incident_id = f"incident--{alert.incident_ids[0]}"
    assert outcome_of(report, incident_id).outcome == "updated"
    # confirmed now: a report, with the same uuid as the grouping it was, so the same alert here
    assert outcome_of(report, f"report--{alert.id}").outcome == "added"
    updated = incidents.get_incident(node, OPERATOR, alert.incident_ids[0])
    assert (updated.verification, updated.tactics, updated.version) == ("verified", ["spyware"], 2)
    assert [link.id for link in updated.actors] == [alert.actor_ids[0]]  # the link stays
    received = alerts.get_alert(node, OPERATOR, alert.id)
    assert received.status == "withdrawn"
    assert count(node, Alert) == 1
    with node.store.reading() as session:
        assert session.scalar(select(Alert.stix_id).where(Alert.uuid == alert.id)) == f"report--{alert.id}"
    assert events(node)[-2:] == [("incident", "verified"), ("alert", "withdrawn")]
    before = events(node)

    older = stix_import.import_objects(node, first, source_partner=partner)

    assert outcome_of(older, incident_id).outcome == "unchanged"
    assert outcome_of(older, incident_id).message == "a newer version is held"
    assert outcome_of(older, f"grouping--{alert.id}").outcome == "unchanged"
    assert incidents.get_incident(node, OPERATOR, alert.incident_ids[0]).verification == "verified"
    assert alerts.get_alert(node, OPERATOR, alert.id).status == "withdrawn"
    assert events(node) == before


def test_bad_objects_are_named_with_their_reason_and_the_good_ones_land(node: Node, sender: Node, partner: str) -> None:
    good = incidents.create_incident(sender, OPERATOR, incident_data(tlp="green"))
    bad = incidents.create_incident(sender, OPERATOR, incident_data(tlp="green", title="Second"))
    bundle = json.loads(bundle_of([good, bad], node_name=SENDER_NAME).serialize())
    objects: list[Any] = bundle["objects"]
    bad_object = next(obj for obj in objects if obj["id"] == f"incident--{bad.id}")
    bad_object["extensions"]["extension-definition--0886c93a-a8a0-431d-903d-146e5762f5ac"]["tactics"] = ["teleport"]
    unmarked = {
        **next(obj for obj in objects if obj["id"] == f"incident--{good.id}"),
        "id": "incident--" + "0" * 8 + "-0000-4000-8000-000000000000",
    }
    del unmarked["object_marking_refs"]
    no_name = {
        **unmarked,
        "object_marking_refs": bad_object["object_marking_refs"],
        "id": "incident--1" + "0" * 7 + "-0000-4000-8000-000000000000",
    }
    del no_name["name"]
    objects += [unmarked, no_name, "not an object", {"type": "incident", "spec_version": "2.0"}]

    report = stix_import.import_objects(node, objects, source_partner=partner)

    assert outcome_of(report, f"incident--{good.id}").outcome == "added"
    failed = outcome_of(report, f"incident--{bad.id}")
    assert failed.outcome == "failed"
    assert "tactics.0" in failed.message
    assert "teleport" in failed.message
    assert "no TLP marking" in outcome_of(report, unmarked["id"]).message
    assert "name" in outcome_of(report, no_name["id"]).message
    assert outcome_of(report, f"(object {len(objects) - 1})").message == "not a JSON object"
    assert "spec_version" in outcome_of(report, f"(object {len(objects)})").message
    assert report.count("failed") == 5
    assert count(node, Incident) == 1
    assert count(node, StixObject, StixObject.stix_id == f"incident--{bad.id}") == 0


def test_a_partner_changes_only_what_came_from_it(node: Node, sender: Node, partner: str) -> None:
    own = incidents.create_incident(node, OPERATOR, incident_data(title="Ours"))
    theirs = incidents.create_incident(sender, OPERATOR, incident_data(id=str(own.id), title="Overwritten?"))
    objects = json.loads(bundle_of([theirs], node_name=SENDER_NAME).serialize())["objects"]

    report = stix_import.import_objects(node, objects, source_partner=partner)

    outcome = outcome_of(report, f"incident--{own.id}")
    assert outcome.outcome == "unchanged"
    assert "held here already" in outcome.message
    assert incidents.get_incident(node, OPERATOR, own.id).title == "Ours"
    assert count(node, StixObject, StixObject.stix_id == f"incident--{own.id}") == 0
    # and the same from a second partner: the first partner's record stays the first partner's
    partners.add_partner(node, OPERATOR, "other-node", "amber")
    mine = incidents.create_incident(sender, OPERATOR, incident_data(title="From the sender"))
    from_sender = json.loads(bundle_of([mine], node_name=SENDER_NAME).serialize())["objects"]
    stix_import.import_objects(node, from_sender, source_partner=partner)
    incidents.update_incident(sender, OPERATOR, mine.id, {"title": "Changed by someone else"})
    changed = json.loads(
        bundle_of([incidents.get_incident(sender, OPERATOR, mine.id)], node_name=SENDER_NAME).serialize()
    )
    other = stix_import.import_objects(node, changed["objects"], source_partner="other-node")
    assert outcome_of(other, f"incident--{mine.id}").outcome == "unchanged"
    assert incidents.get_incident(node, OPERATOR, mine.id).title == "From the sender"


def test_received_objects_keep_their_marking_and_source_and_go_on_only_as_it_allows(
    node: Node, sender: Node, partner: str
) -> None:
    partners.add_partner(node, OPERATOR, "a-client", "red", client=True)
    partners.add_partner(node, OPERATOR, "not-a-client", "red")
    green = incidents.create_incident(sender, OPERATOR, incident_data(tlp="green", title="Green"))
    amber = incidents.create_incident(sender, OPERATOR, incident_data(tlp="amber", title="Amber"))
    red = incidents.create_incident(sender, OPERATOR, incident_data(tlp="red", title="Red"))
    objects = json.loads(bundle_of([green, amber, red], node_name=SENDER_NAME).serialize())["objects"]

    stix_import.import_objects(node, objects, source_partner=partner)

    with node.store.reading() as session:
        rows = session.execute(
            select(StixObject.collection, StixObject.stix_id, StixObject.tlp, StixObject.source)
        ).all()
    where: dict[str, set[str]] = {}
    for collection, stix_id, tlp, source in rows:
        assert source == partner
        where.setdefault(stix_id, set()).add(collection)
        if stix_id.startswith("incident--"):
            assert tlp == {str(green.id): "green", str(amber.id): "amber", str(red.id): "red"}[stix_id.split("--")[1]]
    received = f"received:{partner}"
    assert where[f"incident--{green.id}"] == {received, "community"}
    assert where[f"incident--{amber.id}"] == {received, "partner:a-client"}  # AMBER received: clients only
    assert where[f"incident--{red.id}"] == {received}  # RED: never passed on
    with node.store.reading() as session:
        masked = session.scalar(
            select(StixObject.body).where(
                StixObject.collection == "community", StixObject.stix_id == f"incident--{green.id}"
            )
        )
    assert masked is not None
    assert green.summary not in masked  # below AMBER, passed on without free text


def test_comments_from_a_partner_on_this_nodes_alert(node: Node, partner: str) -> None:
    incident = incidents.create_incident(node, OPERATOR, incident_data())
    ours = alerts.create_alert(
        node,
        OPERATOR,
        {
            "title": "Ours",
            "summary": "Watch out",
            "level": "warning",
            "tlp": "amber",
            "audience": [{"kind": "partner", "value": partner}],
            "incident_ids": [str(incident.id)],
        },
    )
    ours = alerts.publish_alert(node, OPERATOR, ours.id)
    unaddressed = alerts.publish_alert(
        node,
        OPERATOR,
        alerts.create_alert(
            node,
            OPERATOR,
            {"title": "Not theirs", "summary": "No", "level": "warning", "tlp": "amber", "audience": [{"kind": "eu"}]},
        ).id,
    )
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--6b1b3b5e-9c8e-4c62-8f38-1f0b7f1e2d01",
        "created": "2026-11-29T10:00:00.000Z",
        "modified": "2026-11-29T10:00:00.000Z",
        "content": "We see the same here.",
        "object_refs": [f"grouping--{ours.id}"],
        "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
    }
    nosy = {**note, "id": "note--6b1b3b5e-9c8e-4c62-8f38-1f0b7f1e2d02", "object_refs": [f"report--{unaddressed.id}"]}

    report = stix_import.import_objects(node, [note, nosy], source_partner=partner)

    assert [outcome.record for outcome in report.outcomes] == ["comment", None]
    assert [(c.text, c.author) for c in alerts.get_alert(node, OPERATOR, ours.id).comments] == [
        ("We see the same here.", f"partner:{partner}")
    ]
    assert alerts.get_alert(node, OPERATOR, unaddressed.id).comments == []
    newer = {**note, "modified": "2026-11-29T11:00:00.000Z", "content": "Corrected: two cases."}
    assert stix_import.import_objects(node, [newer], source_partner=partner).outcomes[0].outcome == "updated"
    assert [c.text for c in alerts.get_alert(node, OPERATOR, ours.id).comments] == ["Corrected: two cases."]


def test_a_red_alert_reaches_only_the_eu_level(node: Node, sender: Node, partner: str) -> None:
    alert = an_alert(sender, tlp="red")

    stix_import.import_objects(node, shared(sender, alert), source_partner=partner)

    received = alerts.get_alert(node, OPERATOR, alert.id)
    assert received.tlp == "red"
    assert [(item.kind, item.value) for item in received.audience] == [("eu", "")]
    with node.store.reading() as session:
        assert session.scalars(select(AlertAudience.kind).where(AlertAudience.kind == "jurisdiction")).all() == []


def test_an_unknown_or_disabled_partner_is_refused(node: Node, partner: str) -> None:
    with pytest.raises(NotFoundError, match="no partner named 'nobody'"):
        stix_import.import_objects(node, [], source_partner="nobody")
    partners.set_disabled(node, OPERATOR, partner)
    with pytest.raises(ForbiddenError, match="is disabled"):
        stix_import.import_objects(node, [], source_partner=partner)


# -- signed files -------------------------------------------------------------------------------------------------


def write_bundle(tmp_path: Path, sender: Node, key: SigningKey | None) -> Path:
    alert = an_alert(sender)
    path = tmp_path / "bundle.stix.json"
    path.write_text(json.dumps(alert_bundle(shared(sender, alert))), encoding="utf-8")
    if key is not None:
        body = bundle_signature.sign_bundle(
            key, path.read_bytes(), node_name=SENDER_NAME, signed_at=dt.datetime.now(dt.UTC)
        )
        path.with_name(path.name + ".sig").write_text(json.dumps(body), encoding="utf-8")
    return path


def test_a_signed_file_verifies_against_the_pinned_key(node: Node, sender: Node, tmp_path: Path) -> None:
    key = SigningKey.generate()
    partners.add_partner(node, OPERATOR, PARTNER, "amber", public_key=bytes(key.verify_key).hex())
    path = write_bundle(tmp_path, sender, key)

    report = stix_import.import_bundle_file(node, path, partner=PARTNER)

    assert report.failures == []
    assert report.count("added") == len(json.loads(path.read_text())["objects"])


def test_tampered_unsigned_or_foreign_files_are_refused(node: Node, sender: Node, tmp_path: Path) -> None:
    key = SigningKey.generate()
    partners.add_partner(node, OPERATOR, PARTNER, "amber", public_key=bytes(key.verify_key).hex())
    partners.add_partner(node, OPERATOR, "keyless", "amber")
    path = write_bundle(tmp_path, sender, key)
    signature = path.with_name(path.name + ".sig")

    with pytest.raises(bundle_signature.SignatureError, match="no sharing key is pinned"):
        stix_import.import_bundle_file(node, path, partner="keyless")
    path.write_text(path.read_text().replace("Abductions", "Abduction!"), encoding="utf-8")
    with pytest.raises(bundle_signature.SignatureError, match="does not match its signature"):
        stix_import.import_bundle_file(node, path, partner=PARTNER)
    foreign = bundle_signature.sign_bundle(
        SigningKey.generate(), path.read_bytes(), node_name=SENDER_NAME, signed_at=dt.datetime.now(dt.UTC)
    )
    signature.write_text(json.dumps(foreign), encoding="utf-8")
    with pytest.raises(bundle_signature.SignatureError, match="not signed by the trusted key"):
        stix_import.import_bundle_file(node, path, partner=PARTNER)
    signature.unlink()
    with pytest.raises(bundle_signature.SignatureError, match="not signed"):
        stix_import.import_bundle_file(node, path, partner=PARTNER)
    assert count(node, StixObject) == 0
    assert count(node, Incident) == 0


# -- round trip ---------------------------------------------------------------------------------------------------

TACTICS = ("abduction", "family_threats", "interpol_red_notice", "spyware", "assassination")
specs = st.fixed_dictionaries(
    {
        "tactics": st.lists(st.sampled_from(TACTICS), min_size=1, max_size=4, unique=True),
        "tlp": st.sampled_from(("clear", "green", "amber", "amber+strict", "red")),
        "origin_countries": st.lists(st.sampled_from(("UZ", "TJ", "CN", "RU")), min_size=1, max_size=3, unique=True),
        "verification": st.sampled_from(("reported", "corroborated", "verified", "disputed")),
        "date_precision": st.sampled_from(("day", "month", "year")),
        "target_count": st.one_of(st.none(), st.integers(1, 50)),
        "host_state_role": st.sampled_from(("unknown", "protective", "passive", "cooperating", "complicit")),
        "obfuscated": st.booleans(),
        "mask": st.booleans(),
    }
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs)
def test_an_exported_incident_comes_back_with_the_same_coding(
    node: Node, sender: Node, partner: str, spec: dict[str, Any]
) -> None:
    for each in (node, sender):
        with each.store.writing() as session:
            session.execute(delete(Incident))
            session.execute(delete(StixObject))
    location = {"country": "DE", "geo_precision": "place", "place": "Old town", "lat": 52.5, "lon": 13.4}
    location["obfuscated"] = spec["obfuscated"]
    sent: IncidentOut = incidents.create_incident(
        sender,
        OPERATOR,
        incident_data(
            tactics=spec["tactics"],
            tlp=spec["tlp"],
            origin_countries=spec["origin_countries"],
            verification=spec["verification"],
            date_precision=spec["date_precision"],
            target_count=spec["target_count"],
            host_state_role=spec["host_state_role"],
            locations=[location],
        ),
    )
    objects = json.loads(bundle_of([sent], node_name=SENDER_NAME, mask_free_text=spec["mask"]).serialize())["objects"]

    report = stix_import.import_objects(node, objects, source_partner=partner)

    assert report.failures == []
    back = incidents.get_incident(node, OPERATOR, sent.id)
    for name in CODED:
        if name == "summary" and spec["mask"]:
            assert back.summary == ""
            continue
        assert getattr(back, name) == getattr(sent, name), name
    [came] = back.locations
    if spec["obfuscated"]:  # only the country left the sender
        assert (came.country, came.geo_precision, came.obfuscated, came.place, came.lat) == (
            "DE",
            "country",
            True,
            None,
            None,
        )
    else:
        assert came == sent.locations[0]


def test_links_come_and_go_with_their_relationships_and_foreign_objects_are_kept_only(
    node: Node, sender: Node, partner: str
) -> None:
    actor = actors.create_actor(sender, OPERATOR, {"name": "Hired gang", "actor_type": "criminal_group"})
    incident = incidents.create_incident(
        sender, OPERATOR, incident_data(actors=[{"id": str(actor.id), "role": "suspected"}])
    )
    objects = json.loads(bundle_of([incident], [actor], node_name=SENDER_NAME).serialize())["objects"]
    [relationship] = [obj for obj in objects if obj["type"] == "relationship"]
    without = [obj for obj in objects if obj["type"] != "relationship"]
    stix_import.import_objects(node, without, source_partner=partner)
    assert incidents.get_incident(node, OPERATOR, incident.id).actors == []

    linked = stix_import.import_objects(node, [relationship], source_partner=partner)

    assert [(o.outcome, o.record) for o in linked.outcomes] == [("added", "link")]
    assert [(link.id, link.role) for link in incidents.get_incident(node, OPERATOR, incident.id).actors] == [
        (actor.id, "suspected")
    ]
    revoked = {**relationship, "modified": "2099-01-01T00:00:00.000Z", "revoked": True}
    assert stix_import.import_objects(node, [revoked], source_partner=partner).outcomes[0].outcome == "updated"
    assert incidents.get_incident(node, OPERATOR, incident.id).actors == []

    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    common = {"spec_version": "2.1", "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z"}
    foreign = [
        {**common, "type": "threat-actor", "id": "threat-actor--0b3b9d5e-0000-4000-8000-000000000001",
         "name": "APT Example", "threat_actor_types": ["nation-state", "spy"], "object_marking_refs": [amber]},
        {**common, "type": "indicator", "id": "indicator--0b3b9d5e-0000-4000-8000-000000000002",
         "pattern": "[domain-name:value = 'example.invalid']", "pattern_type": "stix",
         "valid_from": "2026-11-01T00:00:00Z", "object_marking_refs": [amber]},
        {**common, "type": "report", "id": "report--0b3b9d5e-0000-4000-8000-000000000003", "name": "Vendor report",
         "published": "2026-11-01T00:00:00Z", "object_refs": ["indicator--0b3b9d5e-0000-4000-8000-000000000002"],
         "object_marking_refs": [amber]},
    ]  # fmt: skip

    report = stix_import.import_objects(node, foreign, source_partner=partner)

    assert [(o.outcome, o.record) for o in report.outcomes] == [("added", "actor"), ("added", None), ("added", None)]
    assert actors.get_actor(node, OPERATOR, uuid_of(str(foreign[0]["id"]))).actor_type == "state"
    assert count(node, Alert) == 0
    assert (
        count(node, StixObject, StixObject.collection == f"received:{partner}", StixObject.stix_type == "indicator")
        == 1
    )


def test_indicators_come_back_with_their_incident_and_go_with_their_relationships(
    node: Node, sender: Node, partner: str
) -> None:
    indicators = [
        {"kind": "domain-name", "value": "update-check.example.com", "note": "Contacted by the phone"},
        {"kind": "ipv4-addr", "value": "192.0.2.10", "first_seen": "2021-03-01", "last_seen": "2021-03-20"},
        {"kind": "url", "value": "https://update-check.example.com/it's"},
    ]
    sent = incidents.create_incident(sender, OPERATOR, incident_data(tactics=["spyware"], indicators=indicators))
    objects = json.loads(bundle_of([sent], node_name=SENDER_NAME).serialize())["objects"]

    first = stix_import.import_objects(node, objects, source_partner=partner)

    assert first.failures == []
    assert sorted(o.record or "" for o in first.outcomes if o.type in ("indicator", "relationship")) == [
        "",
        "",
        "",
        "indicator",
        "indicator",
        "indicator",
    ]  # the indicator objects are kept; their relationships make them the incident's
    back = incidents.get_incident(node, OPERATOR, sent.id)
    assert back.indicators == sent.indicators
    assert stix_import.import_objects(node, objects, source_partner=partner).counts["unchanged"] == len(objects)

    changed = incidents.update_incident(
        sender,
        OPERATOR,
        sent.id,
        {"indicators": [*indicators[:2], {"kind": "file-sha256", "value": "ab" * 32, "note": "The implant"}]},
    )
    newer = json.loads(bundle_of([changed], node_name=SENDER_NAME).serialize())["objects"]
    update = stix_import.import_objects(node, newer, source_partner=partner)
    assert update.failures == []
    # what the partner no longer sends stays until it revokes it, as links do; what it adds comes in its order
    assert [(i.kind, i.note) for i in incidents.get_incident(node, OPERATOR, sent.id).indicators] == [
        ("domain-name", "Contacted by the phone"),
        ("ipv4-addr", None),
        ("url", None),
        ("file-sha256", "The implant"),
    ]
    [url] = [obj["id"] for obj in objects if obj["type"] == "indicator" and obj["pattern"].startswith("[url:")]
    [gone] = [obj for obj in objects if obj["type"] == "relationship" and obj["source_ref"] == url]
    revoked = {**gone, "modified": "2099-01-01T00:00:00.000Z", "revoked": True}
    outcomes = stix_import.import_objects(node, [revoked], source_partner=partner).outcomes
    assert [(o.outcome, o.record) for o in outcomes] == [("updated", "indicator")]
    assert "url" not in [i.kind for i in incidents.get_incident(node, OPERATOR, sent.id).indicators]

    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    common = {"spec_version": "2.1", "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z"}
    two_at_once = {
        **common, "type": "indicator", "id": "indicator--0b3b9d5e-0000-4000-8000-000000000010",
        "pattern": "[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']", "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z", "object_marking_refs": [amber],
    }  # fmt: skip
    link = {
        **common, "type": "relationship", "id": "relationship--0b3b9d5e-0000-4000-8000-000000000011",
        "relationship_type": "related-to", "source_ref": two_at_once["id"], "target_ref": f"incident--{sent.id}",
        "object_marking_refs": [amber],
    }  # fmt: skip
    refused = stix_import.import_objects(node, [two_at_once, link], source_partner=partner)
    assert [o.outcome for o in refused.outcomes] == ["added", "failed"]  # the indicator is kept, the link refused
    assert "pattern: only one comparison" in refused.outcomes[1].message


# -- sightings ----------------------------------------------------------------------------------------------------


SENDERS_ANALYST = Principal(None, "ana", "analyst")  # the sender's EU level, among the alert's audience


def sighted(sender: Node, alert: AlertOut) -> AlertOut:
    """Two more corroborations on the sender's alert: its agency seen in France, and seen somewhere unsaid."""
    seen = {"kind": "corroboration", "sighted_actor_id": str(alert.actor_ids[0])}
    alerts.add_comment(sender, SENDERS_ANALYST, alert.id, {**seen, "text": "In Lyon.", "sighted_country": "FR"})
    alerts.add_comment(sender, SENDERS_ANALYST, alert.id, {**seen, "text": "Somewhere."})
    return alerts.get_alert(sender, OPERATOR, alert.id)


def sightings_of(node: Node, alert: AlertOut) -> list[tuple[str, Any, Any]]:
    comments = alerts.get_alert(node, OPERATOR, alert.id).comments
    return [(c.text, c.sighted_actor_id, c.sighted_country) for c in comments]


def test_a_sighting_comes_back_on_the_corroboration_its_note_names(node: Node, sender: Node, partner: str) -> None:
    alert = sighted(sender, an_alert(sender))
    objects = shared(sender, alert)
    agency = alert.actor_ids[0]

    report = stix_import.import_objects(node, objects, source_partner=partner)

    assert report.failures == []
    assert [o.record for o in report.outcomes if o.type == "sighting"] == ["comment", "comment"]
    assert [o.record for o in report.outcomes if o.type == "location"] == [None]
    assert sightings_of(node, alert) == [
        ("Confirmed by our consulate.", None, None),
        ("Maybe.", None, None),
        ("In Lyon.", agency, "FR"),
        ("Somewhere.", agency, None),
    ]
    assert all(c.author == f"partner:{partner}" for c in alerts.get_alert(node, OPERATOR, alert.id).comments)

    again = stix_import.import_objects(node, objects, source_partner=partner)

    assert again.counts == {"added": 0, "updated": 0, "unchanged": len(objects), "failed": 0}
    assert count(node, AlertComment) == 4
    assert sightings_of(node, alert)[2:] == [("In Lyon.", agency, "FR"), ("Somewhere.", agency, None)]


@pytest.mark.parametrize("first", ["notes", "sightings"])
def test_a_sighting_and_its_note_meet_whichever_comes_first(node: Node, sender: Node, partner: str, first: str) -> None:
    alert = sighted(sender, an_alert(sender))
    objects = shared(sender, alert)
    agency = alert.actor_ids[0]
    later_types = {"sighting", "location"} if first == "notes" else {"note"}
    earlier = [obj for obj in objects if obj["type"] not in later_types]
    later = [obj for obj in objects if obj["type"] in later_types]

    before = stix_import.import_objects(node, earlier, source_partner=partner)

    assert before.failures == []
    if first == "notes":
        assert [c[1:] for c in sightings_of(node, alert)] == [(None, None)] * 4
    else:
        assert alerts.get_alert(node, OPERATOR, alert.id).comments[1:] == []  # only the opinion has come
        assert [o.record for o in before.outcomes if o.type == "sighting"] == [None, None]  # kept, for its note

    after = stix_import.import_objects(node, later, source_partner=partner)

    assert after.failures == []
    assert {o.outcome for o in after.outcomes} == {"added"}
    assert sightings_of(node, alert)[-2:] == [("In Lyon.", agency, "FR"), ("Somewhere.", agency, None)]


def test_a_sighting_of_an_actor_not_held_is_named_and_a_foreign_one_is_kept(
    node: Node, sender: Node, partner: str
) -> None:
    alert = sighted(sender, an_alert(sender))
    objects = shared(sender, alert)
    without_actors = [obj for obj in objects if obj["type"] != "threat-actor"]

    report = stix_import.import_objects(node, without_actors, source_partner=partner)

    refused = [o for o in report.outcomes if o.type == "sighting"]
    assert [o.outcome for o in refused] == ["failed", "failed"]
    assert refused[0].message == (
        f"the sighted actor is not held here: sighting_of_ref: threat-actor--{alert.actor_ids[0]}"
    )
    assert [c[1:] for c in sightings_of(node, alert)] == [(None, None)] * 4  # the notes landed, without it
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    foreign = {
        "type": "sighting", "spec_version": "2.1", "id": "sighting--0b3b9d5e-0000-4000-8000-000000000009",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "sighting_of_ref": "threat-actor--0b3b9d5e-0000-4000-8000-00000000000a", "object_marking_refs": [amber],
    }  # fmt: skip
    bad_place = {
        "type": "location", "spec_version": "2.1", "id": "location--0b3b9d5e-0000-4000-8000-00000000000b",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z", "country": "Lyon",
        "object_marking_refs": [amber],
    }  # fmt: skip
    the_actors = [obj for obj in objects if obj["type"] == "threat-actor"]
    assert stix_import.import_objects(node, the_actors, source_partner=partner).failures == []
    [sighting] = [obj for obj in without_actors if obj["type"] == "sighting" and "where_sighted_refs" in obj]
    misplaced = {**sighting, "modified": "2099-01-01T00:00:00.000Z", "where_sighted_refs": [bad_place["id"]]}

    kept = stix_import.import_objects(node, [foreign, bad_place, misplaced], source_partner=partner)

    assert [(o.outcome, o.record) for o in kept.outcomes[:2]] == [("added", None), ("added", None)]
    assert kept.outcomes[2].outcome == "failed"
    assert f"where_sighted_refs: the country of {bad_place['id']}" in kept.outcomes[2].message
