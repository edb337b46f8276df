"""Pseudonymised incidents for the community of partner nodes, beyond alerts.

An incident leaves the node on its own (not only inside an alert) when two things hold: its marking is CLEAR or
GREEN (TLP's community), and its owner let it go beyond itself: the node's own incidents, or a focal point's incident
that its owner shared with the EU level. It then goes, masked (a coded name instead of its title, no summary or
other free text, obfuscated locations as their country), into the community collection that every partner reads
within its clearance, with its actors and the pseudonyms of its persons, never an identity. When an incident that
went out stops qualifying (its marking was raised, its sharing withdrawn, it was deleted), a revoked version follows
it, so that partners drop it.

The delivery worker calls `share_changed` for the incidents of each batch of outbox events, in the transaction that
marks the events done: so an incident is shared once per change, after the change committed, and not at all when the
node has no partner. AMBER and stricter incidents leave only inside alerts that name partners (services/taxii.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tnrwatch.domain.incident import IncidentOut
from tnrwatch.domain.sharing import LOCAL
from tnrwatch.interop import stix
from tnrwatch.services import actors, partners, persons, taxii
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import Incident, StixObject
from tnrwatch.store.types import utcnow

COMMUNITY_TLPS = ("clear", "green")


def share_changed(session: Session, node: Node, incident_uuids: Sequence[uuid.UUID]) -> int:
    """Share (or revoke) the incidents with these uuids as the module docstring says; how many objects went out."""
    if not incident_uuids or not partners.active_partners(session):
        return 0
    rows = session.execute(
        select(Incident.id, Incident.uuid, Incident.tlp, Incident.jurisdiction_code, Incident.shared_with_eu).where(
            Incident.uuid.in_(sorted(set(incident_uuids)))
        )
    ).all()
    going = [row.id for row in rows if _qualifies(row.tlp, row.jurisdiction_code, row.shared_with_eu)]
    staying = {row.uuid for row in rows if row.id not in going} | (set(incident_uuids) - {row.uuid for row in rows})
    sent = _share(session, node, going)
    return sent + _revoke(session, node, staying)


def _qualifies(tlp: str, owner: str | None, shared_with_eu: bool) -> bool:
    return tlp in COMMUNITY_TLPS and (owner is None or shared_with_eu)


def _share(session: Session, node: Node, incident_ids: list[int]) -> int:
    if not incident_ids:
        return 0
    incidents = load_incidents(session, incident_ids, node.taxonomy)
    operator = Principal.operator()
    actor_ids = sorted({link.id for incident in incidents for link in incident.actors})
    person_ids = sorted({link.id for incident in incidents for link in incident.persons})
    bundle = stix.bundle_of(
        incidents,
        [actors.get_actor(node, operator, actor_id) for actor_id in actor_ids],
        persons=[persons.get_person(node, operator, person_id) for person_id in person_ids],  # pseudonyms only
        node_name=node.settings.node_name,
        mask_free_text=True,
        default_tlp="green",
        taxonomy=node.taxonomy,
    )
    names = {stix.stix_id("incident", incident.id): _coded_name(incident) for incident in incidents}
    objects: list[dict[str, Any]] = []
    for obj in _plain(bundle)["objects"]:
        if obj["type"] == "incident" and obj["id"] in names:
            obj["name"] = names[obj["id"]]  # a title is free text too: the community reads a coded one
        objects.append(obj)
    results = taxii.share(session, node, objects, "green", LOCAL, frozenset())
    return sum(len(result.added) for result in results.values())


def _revoke(session: Session, node: Node, incident_uuids: set[uuid.UUID]) -> int:
    """A revoked version of each incident the community holds (its latest version not revoked yet)."""
    if not incident_uuids:
        return 0
    wanted = [stix.stix_id("incident", value) for value in sorted(incident_uuids)]
    latest: dict[str, tuple[dt.datetime, str]] = {}
    for stix_id, modified, body in session.execute(
        select(StixObject.stix_id, StixObject.modified, StixObject.body).where(
            StixObject.collection == taxii.COMMUNITY, StixObject.stix_id.in_(wanted), StixObject.source == LOCAL
        )
    ):
        if stix_id not in latest or modified > latest[stix_id][0]:
            latest[stix_id] = (modified, body)
    now = utcnow()
    objects = []
    for stix_id, (last_modified, body) in sorted(latest.items()):
        held = json.loads(body)
        if held.get("revoked"):
            continue
        objects.append(
            {
                "type": "incident",
                "spec_version": "2.1",
                "id": stix_id,
                "created": held["created"],
                "modified": taxii.stix_timestamp(max(now, last_modified + dt.timedelta(microseconds=1)), micro=True),
                "name": held.get("name", "withdrawn"),
                "revoked": True,
                "object_marking_refs": held.get("object_marking_refs", []),
            }
        )
    if not objects:
        return 0
    results = taxii.share(session, node, objects, "green", LOCAL, frozenset())
    return sum(len(result.added) for result in results.values())


def _coded_name(incident: IncidentOut) -> str:
    """E.g. "abduction, threats: UZ -> TR, 2021-03": tactics, origins, hosts and the month, all coded."""
    hosts = sorted({location.country for location in incident.locations})
    month = (
        incident.date_start.strftime("%Y-%m") if incident.date_precision != "year" else str(incident.date_start.year)
    )
    return f"{', '.join(incident.tactics)}: {', '.join(incident.origin_countries)} -> {', '.join(hosts)}, {month}"


def _plain(bundle: Any) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(bundle.serialize())
    return plain
