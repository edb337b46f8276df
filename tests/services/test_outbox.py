"""The outbox: every change subscribers may hear of writes an event in its own transaction (and only then), with the
right event name; an import writes one per incident; a change that fails writes none. Both databases."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tnrwatch.errors import InvalidInputError
from tnrwatch.services import alerts, imports, incidents, outbox
from tnrwatch.services.imports import ImportRequest
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import OutboxEvent

from ..factories import incident_data

EXAMPLES = Path(__file__).parents[2] / "examples"
GERMAN = Principal(None, "olga", "officer", "DE")


def events(node: Node) -> list[tuple[str, str, uuid.UUID]]:
    with node.store.reading() as session:
        rows = session.execute(
            select(OutboxEvent.topic, OutboxEvent.event, OutboxEvent.subject_uuid).order_by(OutboxEvent.id)
        ).all()
    return [(topic, event, subject) for topic, event, subject in rows]


def test_incident_changes_are_events_in_their_own_transaction(node: Node, operator: Principal) -> None:
    created = incidents.create_incident(node, GERMAN, incident_data(verification="reported"))
    incidents.update_incident(node, GERMAN, created.id, {"title": "Activist abducted near the central bus station"})
    incidents.update_incident(node, GERMAN, created.id, {"verification": "verified"})
    incidents.update_incident(node, GERMAN, created.id, {"tactics": ["abduction", "family_threats"]})  # still verified
    incidents.update_incident(node, GERMAN, created.id, {"verification": "disputed"})
    incidents.update_incident(node, GERMAN, created.id, {"verification": "verified"})  # verified again
    incidents.share_with_eu(node, GERMAN, created.id, True)
    incidents.share_with_eu(node, GERMAN, created.id, True)  # no change, no event
    incidents.share_with_eu(node, GERMAN, created.id, False)  # partners must drop it (incident_sharing): an event
    assert [event for _, event, _ in events(node)] == [
        "created",
        "updated",
        "verified",
        "updated",
        "updated",
        "verified",
        "updated",
        "updated",
    ]
    assert {(topic, subject) for topic, _, subject in events(node)} == {("incident", created.id)}

    with pytest.raises(InvalidInputError):
        incidents.update_incident(node, GERMAN, created.id, {"tactics": ["not-a-tactic"]})
    with pytest.raises(InvalidInputError):
        incidents.create_incident(node, operator, incident_data(tlp="purple"))
    assert len(events(node)) == 8  # a change that fails leaves no event behind


def test_created_already_verified_is_created(node: Node) -> None:
    created = incidents.create_incident(node, GERMAN, incident_data(verification="verified"))
    assert events(node) == [("incident", "created", created.id)]


def test_alerts_are_events_when_published_and_withdrawn_not_as_drafts(node: Node) -> None:
    data = {
        "title": "Surge of forced returns",
        "summary": "Three deportations in a week.",
        "level": "urgent",
        "tlp": "amber",
        "audience": [{"kind": "eu"}],
    }
    alert = alerts.create_alert(node, GERMAN, data)
    assert events(node) == []
    alerts.publish_alert(node, GERMAN, alert.id)
    alerts.withdraw_alert(node, GERMAN, alert.id)
    dropped = alerts.create_alert(node, GERMAN, data)
    alerts.withdraw_alert(node, GERMAN, dropped.id)  # a draft dropped unseen is news to nobody
    assert events(node) == [("alert", "published", alert.id), ("alert", "withdrawn", alert.id)]


def test_an_import_writes_one_event_per_incident(node: Node, operator: Principal) -> None:
    path = EXAMPLES / "freedom_house_sample.csv"
    result = imports.import_file(
        node, operator, ImportRequest(path=path, label=path.name, mapping="freedom_house", synthetic=True)
    )
    assert result.imported == 10
    found = events(node)
    assert len(found) == 10
    assert {(topic, event) for topic, event, _ in found} == {("incident", "created")}
    page = incidents.search_incidents(node, operator, incidents.IncidentQuery(limit=20))
    assert {subject for _, _, subject in found} == {incident.id for incident in page.items}


def test_a_commit_wakes_the_worker_and_a_rollback_does_not(node: Node) -> None:
    outbox.WAKEUP.clear()

    def fail_after_enqueueing() -> None:
        with node.store.writing() as session:
            outbox.enqueue(session, "incident", "created", uuid.uuid4())
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        fail_after_enqueueing()
    assert not outbox.WAKEUP.is_set()
    assert events(node) == []
    with node.store.writing() as session:
        outbox.enqueue(session, "incident", "created", uuid.uuid4())
    assert outbox.WAKEUP.is_set()
    with node.store.writing() as session, pytest.raises(ValueError, match="unknown outbox event"):
        outbox.enqueue(session, "alert", "created", uuid.uuid4())


def test_the_verified_event() -> None:
    assert outbox.incident_event("reported", "verified") == "verified"
    assert outbox.incident_event("corroborated", "verified") == "verified"
    assert outbox.incident_event("verified", "verified") == "updated"
    assert outbox.incident_event("verified", "disputed") == "updated"
    assert outbox.incident_event("reported", "corroborated") == "updated"
