"""Pseudonymised incidents in the partners' community: CLEAR and GREEN incidents of the node, or shared with the EU
level by their focal point, go out masked with a coded name once the worker takes their change; AMBER never goes on
its own; an incident that stops qualifying follows as a revoked version; no partner, nothing written. Both
databases."""

from __future__ import annotations

import json

from sqlalchemy import select

from tnrwatch.interop.stix import stix_id
from tnrwatch.services import incident_sharing, incidents, partners, taxii, worker
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import StixObject

from ..factories import incident_data

OPERATOR = Principal.operator()
GERMAN = Principal(account_id=None, username="de-off", role="officer", jurisdiction="DE")


def _community(node: Node) -> dict[str, list[dict[str, object]]]:
    with node.store.reading() as session:
        rows = session.execute(
            select(StixObject.stix_id, StixObject.body)
            .where(StixObject.collection == taxii.COMMUNITY)
            .order_by(StixObject.date_added)
        ).all()
    held: dict[str, list[dict[str, object]]] = {}
    for key, body in rows:
        held.setdefault(key, []).append(json.loads(body))
    return held


def test_green_incidents_go_out_masked_and_amber_ones_stay(node: Node) -> None:
    partners.add_partner(node, OPERATOR, "fr-node", "amber")
    green = incidents.create_incident(node, OPERATOR, incident_data(tlp="green"))
    amber = incidents.create_incident(node, OPERATOR, incident_data(tlp="amber"))
    worker.run_once(node)
    held = _community(node)
    assert stix_id("incident", amber.id) not in held
    [shared] = held[stix_id("incident", green.id)]
    text = json.dumps(shared)
    assert shared["name"] == "abduction: UZ -> TR, 2021-03"
    assert "bus station" not in text  # the title
    assert "forced into a car" not in text  # the summary
    assert "Istanbul" not in text  # the place


def test_a_focal_points_incident_goes_when_shared_and_is_revoked_when_unshared(node: Node) -> None:
    partners.add_partner(node, OPERATOR, "fr-node", "green")
    incident = incidents.create_incident(node, GERMAN, incident_data(tlp="green"))
    worker.run_once(node)
    assert stix_id("incident", incident.id) not in _community(node)  # the focal point's own, not shared

    incidents.share_with_eu(node, GERMAN, incident.id, True)
    worker.run_once(node)
    assert len(_community(node)[stix_id("incident", incident.id)]) == 1

    incidents.share_with_eu(node, GERMAN, incident.id, False)
    worker.run_once(node)
    versions = _community(node)[stix_id("incident", incident.id)]
    assert [v.get("revoked", False) for v in versions] == [False, True]
    assert versions[1]["created"] == versions[0]["created"]
    assert str(versions[1]["modified"]) > str(versions[0]["modified"])
    worker.run_once(node)  # nothing more to say
    assert len(_community(node)[stix_id("incident", incident.id)]) == 2


def test_without_partners_nothing_is_written(node: Node) -> None:
    incident = incidents.create_incident(node, OPERATOR, incident_data(tlp="clear"))
    with node.store.writing() as session:
        assert incident_sharing.share_changed(session, node, [incident.id]) == 0
    assert _community(node) == {}
