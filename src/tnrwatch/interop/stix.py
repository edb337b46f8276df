"""STIX 2.1 export of incidents and actors, for sharing alerts with partner nodes (first slice: no import yet).

What leaves the node, and how:
- an incident becomes an `incident` SDO whose coded fields (tactics, countries, dates, precision, verification ...)
  travel in tnrwatch's own property extension, published in every bundle as an `extension-definition`;
- an actor becomes a `threat-actor`; a person becomes an `identity` that carries only the pseudonym. This module never
  sees a vault identity: it takes `PersonOut` objects and reads nothing from them but the pseudonym and timestamps;
- an obfuscated location leaves as its country only (no place, no region, no coordinates);
- every object derived from an incident carries the incident's TLP 2.0 marking (the strictest one when several
  incidents share it), and the bundle holds the official TLP 2.0 `marking-definition` objects it refers to.

Ids are deterministic: an incident, actor or person keeps its uuid (`incident--<uuid>`), and the objects this module
makes (relationships, the node's identity, the bundle) take a uuid5 of what they stand for, so that exporting the
same data twice gives the same ids. Only `domain` and `taxonomy` types come in; dicts and `stix2` objects go out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stix2.v21 import (
    Bundle,
    ExtensionDefinition,
    Identity,
    Incident,
    MarkingDefinition,
    Relationship,
    ThreatActor,
)

from tnrwatch.domain.actor import ActorOut
from tnrwatch.domain.incident import IncidentOut, Location
from tnrwatch.domain.person import PersonOut
from tnrwatch.taxonomy import Taxonomy, default_taxonomy

# Fixed namespace for every uuid5 this module makes. The `.invalid` TLD names nothing that resolves.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tnrwatch.invalid/stix")

PUBLISHED = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)  # when version 1.0 of the extension was published

# The tnrwatch project as the author of the extension definition. It is the same object on every node (a fixed id
# must always stand for the same content), so it is not the exporting node's identity.
# Both ids are published: literals, so that no code change can move them.
PROJECT_IDENTITY_ID = "identity--467a253d-4e2a-498e-a016-9b1dda37187b"
TNR_EXTENSION_ID = "extension-definition--0886c93a-a8a0-431d-903d-146e5762f5ac"
TNR_EXTENSION_SCHEMA = "https://tnrwatch.invalid/stix/tnr-extension-v1.json"

# TLP 2.0 in STIX: the official marking-definition objects (OASIS cti-stix-common-objects, tlp-2.0). stix2 3.0 only
# ships the TLP 1.0 markings, so they are built here from the ids the taxonomy records for each TLP term.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

# STIX threat-actor-type-ov and threat-actor-role-ov values for each actor type. Organs of the origin state are
# nation-state actors; a proxy's own kind decides its type, and a proxy acts as the state's agent.
THREAT_ACTOR_TYPES: Mapping[str, tuple[str, ...]] = {
    "state": ("nation-state",),
    "intelligence_service": ("nation-state", "spy"),
    "police": ("nation-state",),
    "diplomatic_mission": ("nation-state",),
    "judiciary": ("nation-state",),
    "state_media": ("nation-state",),
    "official": ("nation-state",),
    "proxy": ("unknown",),
    "criminal_group": ("crime-syndicate",),
    "diaspora_association": ("unknown",),
    "private_company": ("unknown",),
    "hired_individual": ("criminal",),
}
THREAT_ACTOR_ROLES: Mapping[str, tuple[str, ...]] = {
    "state": ("sponsor",),
    "proxy": ("agent",),
    "criminal_group": ("agent",),
    "diaspora_association": ("agent",),
    "private_company": ("agent",),
    "hired_individual": ("agent",),
}


def deterministic_id(stix_type: str, *parts: str) -> str:
    """An id made from what the object stands for. STIX asks for UUIDv4 ids on SDOs and SROs, so the uuid5 hash is
    stamped as version 4: still the same for the same parts, and valid for a strict validator."""
    return f"{stix_type}--{_as_v4(uuid.uuid5(NAMESPACE, '|'.join((stix_type, *parts))))}"


def stix_id(stix_type: str, record_id: uuid.UUID) -> str:
    """The id of a stored record: its own uuid when that is a UUIDv4 (as tnrwatch makes them), else one derived
    from it (an id imported from elsewhere may be of another version)."""
    if record_id.version == 4:
        return f"{stix_type}--{record_id}"
    return deterministic_id(stix_type, str(record_id))


def _as_v4(value: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(bytes=value.bytes, version=4)


def tlp_marking_id(tlp: str, taxonomy: Taxonomy) -> str:
    """The official TLP 2.0 marking-definition id of a TLP code; KeyError for an unknown code."""
    term = taxonomy.tlp.get(tlp)
    if term is None or term.stix_id is None:
        raise KeyError(tlp)
    return term.stix_id


def tlp_marking(tlp: str, taxonomy: Taxonomy) -> Any:
    """The official TLP 2.0 marking-definition object for a TLP code (e.g. 'amber+strict')."""
    return MarkingDefinition(
        id=tlp_marking_id(tlp, taxonomy),
        created=TLP2_CREATED,
        name=taxonomy.tlp.label(tlp),
        extensions={TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    )


def project_identity() -> Any:
    return Identity(
        id=PROJECT_IDENTITY_ID,
        created=PUBLISHED,
        modified=PUBLISHED,
        name="tnrwatch",
        identity_class="organization",
        description="The tnrwatch project, author of the tnrwatch STIX extension.",
    )


def tnr_extension_definition() -> Any:
    """The published definition of tnrwatch's property extension (version 1.0)."""
    return ExtensionDefinition(
        id=TNR_EXTENSION_ID,
        created_by_ref=PROJECT_IDENTITY_ID,
        created=PUBLISHED,
        modified=PUBLISHED,
        name="tnrwatch transnational repression coding",
        description=(
            "Coded properties of transnational repression incidents, actors and links, with codes from the "
            "tnrwatch common definition (taxonomy_version says which)."
        ),
        schema=TNR_EXTENSION_SCHEMA,
        version="1.0",
        extension_types=["property-extension"],
    )


def node_identity(node_name: str) -> Any:
    """The exporting node, as the `created_by_ref` of everything it exports."""
    return Identity(
        id=deterministic_id("identity", "node", node_name),
        created=PUBLISHED,
        modified=PUBLISHED,
        name=node_name,
        identity_class="organization",
    )


def _extension(**properties: Any) -> dict[str, Any]:
    """The tnrwatch extension block, without empty values."""
    kept = {key: value for key, value in properties.items() if value not in (None, [], "")}
    return {TNR_EXTENSION_ID: {"extension_type": "property-extension", **kept}}


def location_out(location: Location) -> dict[str, Any]:
    """A location as shared: only its country when obfuscated, else as precise as it was coded."""
    if location.obfuscated:
        return {"country": location.country, "geo_precision": "country", "obfuscated": True}
    shared: dict[str, Any] = {"country": location.country, "geo_precision": location.geo_precision}
    if location.admin1:
        shared["admin1"] = location.admin1
    if location.place:
        shared["place"] = location.place
    if location.lat is not None and location.lon is not None:
        shared["latitude"] = location.lat
        shared["longitude"] = location.lon
    return shared


def incident_object(incident: IncidentOut, *, created_by_ref: str, taxonomy: Taxonomy, mask_free_text: bool) -> Any:
    """An incident as a STIX `incident` SDO; `mask_free_text` leaves out the summary."""
    created, modified = _times(incident.created_at, incident.updated_at)
    return Incident(
        id=stix_id("incident", incident.id),
        created_by_ref=created_by_ref,
        created=created,
        modified=modified,
        name=incident.title,
        description=None if mask_free_text or not incident.summary else incident.summary,
        object_marking_refs=[tlp_marking_id(incident.tlp, taxonomy)],
        extensions=_extension(
            taxonomy_version=incident.taxonomy_version,
            tactics=list(incident.tactics),
            tactic_families=list(incident.tactic_families),
            origin_countries=list(incident.origin_countries),
            host_countries=sorted({location.country for location in incident.locations}),
            locations=[location_out(location) for location in incident.locations],
            target_categories=list(incident.target_categories),
            date_start=incident.date_start.isoformat(),
            date_end=incident.date_end.isoformat() if incident.date_end else None,
            date_precision=incident.date_precision,
            verification=incident.verification,
            host_state_role=incident.host_state_role,
            mass_event=incident.mass_event,
            target_count=incident.target_count,
        ),
    )


def threat_actor_object(actor: ActorOut, *, created_by_ref: str, tlp_ref: str, mask_free_text: bool) -> Any:
    """An actor as a STIX `threat-actor` SDO."""
    created, modified = _times(actor.created_at, actor.updated_at)
    return ThreatActor(
        id=stix_id("threat-actor", actor.id),
        created_by_ref=created_by_ref,
        created=created,
        modified=modified,
        name=actor.name,
        description=None if mask_free_text or not actor.description else actor.description,
        aliases=list(actor.aliases) or None,
        threat_actor_types=list(THREAT_ACTOR_TYPES.get(actor.actor_type, ("unknown",))),
        roles=list(THREAT_ACTOR_ROLES.get(actor.actor_type, ())) or None,
        object_marking_refs=[tlp_ref],
        extensions=_extension(
            actor_type=actor.actor_type,
            country=actor.country,
            ftm_schema=actor.ftm_schema,
            parent_ref=stix_id("threat-actor", actor.parent_id) if actor.parent_id else None,
        ),
    )


def person_object(person: PersonOut, *, created_by_ref: str, tlp_ref: str) -> Any:
    """A person as a pseudonymous `identity`: the pseudonym is its only name, whatever else `person` holds."""
    created, modified = _times(person.created_at, person.updated_at)
    return Identity(
        id=stix_id("identity", person.id),
        created_by_ref=created_by_ref,
        created=created,
        modified=modified,
        name=person.pseudonym,
        identity_class="individual",
        object_marking_refs=[tlp_ref],
    )


def relationship(
    relationship_type: str, source: Any, target: Any, *, created_by_ref: str, tlp_ref: str, **coded: Any
) -> Any:
    """A relationship dated like the later of its two ends, so that it changes only when they do."""
    when = max(source["modified"], target["modified"])
    return Relationship(
        id=deterministic_id("relationship", relationship_type, source["id"], target["id"]),
        created_by_ref=created_by_ref,
        created=when,
        modified=when,
        relationship_type=relationship_type,
        source_ref=source["id"],
        target_ref=target["id"],
        object_marking_refs=[tlp_ref],
        extensions=_extension(**coded) if coded else None,
    )


def bundle_of(
    incidents: Iterable[IncidentOut],
    actors: Iterable[ActorOut] = (),
    *,
    persons: Iterable[PersonOut] = (),
    node_name: str,
    mask_free_text: bool = False,
    default_tlp: str = "amber",
    taxonomy: Taxonomy | None = None,
) -> Any:
    """A STIX 2.1 bundle of `incidents`, `actors` and the pseudonyms of `persons`, in a fixed order.

    Links become relationships: incident `related-to` actor and incident `related-to` person (the coded role in the
    extension; STIX suggests no other relationship from an incident), and actor `targets` person when the actor is a
    perpetrator of an incident the person is a target of. Every person an incident links to must be in `persons`
    (ValueError otherwise); actors an incident links to but that are not in `actors` are left out. An object takes the
    strictest TLP of the incidents it is linked to, or `default_tlp` when it is linked to none. `mask_free_text` drops
    the free-text descriptions of incidents and actors.
    """
    taxonomy = taxonomy or default_taxonomy()
    tlp_rank = taxonomy.tlp.rank
    incident_list = sorted(incidents, key=lambda incident: str(incident.id))
    actor_by_id = {actor.id: actor for actor in actors}
    person_by_id = {person.id: person for person in persons}
    missing = sorted(
        {str(link.id) for incident in incident_list for link in incident.persons if link.id not in person_by_id}
    )
    if missing:
        raise ValueError(f"the incidents link to persons that were not given: {', '.join(missing)}")

    tlp_of: dict[uuid.UUID, str] = {}
    for incident in incident_list:
        for link_id in [link.id for link in incident.actors] + [link.id for link in incident.persons]:
            known = tlp_of.get(link_id)
            if known is None or tlp_rank(incident.tlp) > tlp_rank(known):
                tlp_of[link_id] = incident.tlp

    def tlp_ref(object_id: uuid.UUID) -> str:
        return tlp_marking_id(tlp_of.get(object_id, default_tlp), taxonomy)

    node = node_identity(node_name)
    author = node["id"]
    incident_objects = [
        incident_object(incident, created_by_ref=author, taxonomy=taxonomy, mask_free_text=mask_free_text)
        for incident in incident_list
    ]
    actor_objects = {
        actor.id: threat_actor_object(
            actor, created_by_ref=author, tlp_ref=tlp_ref(actor.id), mask_free_text=mask_free_text
        )
        for actor in actor_by_id.values()
    }
    person_objects = {
        person.id: person_object(person, created_by_ref=author, tlp_ref=tlp_ref(person.id))
        for person in person_by_id.values()
    }
    relationships = _relationships(incident_list, incident_objects, actor_objects, person_objects, author, taxonomy)

    used_tlps = sorted(
        {ref for obj in [*incident_objects, *actor_objects.values(), *person_objects.values()] for ref in _refs(obj)}
    )
    tlp_by_id = {term.stix_id: term.code for term in taxonomy.tlp}
    objects = [
        *(tlp_marking(tlp_by_id[ref], taxonomy) for ref in used_tlps),
        project_identity(),
        tnr_extension_definition(),
        node,
        *incident_objects,
        *sorted(actor_objects.values(), key=lambda obj: obj["id"]),
        *sorted(person_objects.values(), key=lambda obj: obj["id"]),
        *sorted(relationships.values(), key=lambda obj: obj["id"]),
    ]
    fingerprint = "|".join(f"{obj['id']}@{obj.get('modified', obj.get('created'))}" for obj in objects)
    return Bundle(id=deterministic_id("bundle", fingerprint), objects=objects)


def _relationships(
    incidents: Sequence[IncidentOut],
    incident_objects: Sequence[Any],
    actor_objects: Mapping[uuid.UUID, Any],
    person_objects: Mapping[uuid.UUID, Any],
    author: str,
    taxonomy: Taxonomy,
) -> dict[str, Any]:
    """The relationships the incidents' links make, by id. An actor-targets-person relationship that several
    incidents support takes the strictest of their markings."""
    # (type, source id, target id, coded role) -> TLP code
    wanted: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], str] = {}
    by_id: dict[str, Any] = {}

    def want(kind: str, source: Any, target: Any, tlp: str, **coded: str) -> None:
        by_id[source["id"]], by_id[target["id"]] = source, target
        key = (kind, source["id"], target["id"], tuple(coded.items()))
        known = wanted.get(key)
        if known is None or taxonomy.tlp.rank(tlp) > taxonomy.tlp.rank(known):
            wanted[key] = tlp

    for incident, incident_stix in zip(incidents, incident_objects, strict=True):
        linked_actors = [link for link in incident.actors if link.id in actor_objects]
        for actor_link in linked_actors:
            want("related-to", incident_stix, actor_objects[actor_link.id], incident.tlp, actor_role=actor_link.role)
        for person_link in incident.persons:
            person_stix = person_objects[person_link.id]
            want("related-to", incident_stix, person_stix, incident.tlp, person_role=person_link.role)
            if person_link.role != "target":
                continue
            for actor_link in linked_actors:
                if actor_link.role == "perpetrator":
                    want("targets", actor_objects[actor_link.id], person_stix, incident.tlp)

    found: dict[str, Any] = {}
    for (kind, source, target, coded), tlp in wanted.items():
        made = relationship(
            kind,
            by_id[source],
            by_id[target],
            created_by_ref=author,
            tlp_ref=tlp_marking_id(tlp, taxonomy),
            **dict(coded),
        )
        found[made["id"]] = made
    return found


def _refs(stix_object: Any) -> list[str]:
    return list(stix_object.get("object_marking_refs", []))


def _times(created: dt.datetime, modified: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """STIX timestamps in UTC, with `modified` never before `created`."""
    created_utc = _utc(created)
    return created_utc, max(created_utc, _utc(modified))


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
