"""STIX 2.1 export of incidents and actors, for sharing alerts with partner nodes (first slice: no import yet).

What leaves the node, and how:
- an incident becomes an `incident` SDO whose coded fields (tactics, countries, dates, precision, verification ...)
  travel in tnrwatch's own property extension, published in every bundle as an `extension-definition`;
- an actor becomes a `threat-actor`; a person becomes an `identity` that carries only the pseudonym. This module never
  sees a vault identity: it takes `PersonOut` objects and reads nothing from them but the pseudonym and timestamps;
- an obfuscated location leaves as its country only (no place, no region, no coordinates);
- every object derived from an incident carries the incident's TLP 2.0 marking (the strictest one when several
  incidents share it), and the bundle holds the official TLP 2.0 `marking-definition` objects it refers to;
- an incident's technical indicators become `indicator` objects with STIX patterns, each `related-to` its incident,
  marked at least TLP:AMBER (domain/sharing.py `indicator_tlp`) and left out of a bundle whose free text is masked.

Ids are deterministic: an incident, actor or person keeps its uuid (`incident--<uuid>`), and the objects this module
makes (relationships, the node's identity, the bundle) take a uuid5 of what they stand for, so that exporting the
same data twice gives the same ids. Only `domain` and `taxonomy` types come in; dicts and `stix2` objects go out.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stix2.v21 import (
    Bundle,
    ExtensionDefinition,
    Grouping,
    Identity,
    Incident,
    Indicator,
    MarkingDefinition,
    Note,
    Opinion,
    Relationship,
    Report,
    Sighting,
    ThreatActor,
)
from stix2.v21 import Location as StixLocation  # not domain/incident.py's Location

from tnrwatch.domain.actor import ActorOut
from tnrwatch.domain.alert import AlertOut, CommentOut
from tnrwatch.domain.incident import IncidentOut, Location
from tnrwatch.domain.incident import Indicator as IncidentIndicator  # not stix2's Indicator
from tnrwatch.domain.person import PersonOut
from tnrwatch.domain.sharing import indicator_tlp
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
# Alerts travel in a second property extension of their own (level, status, expiry, audience kinds), published on
# the day alerts were first shared, so that the incident extension's published definition never changes.
ALERT_EXTENSION_ID = "extension-definition--e3d3409e-c87b-4b71-93dd-8474d0c3eca0"
ALERT_EXTENSION_SCHEMA = "https://tnrwatch.invalid/stix/tnr-alert-extension-v1.json"
ALERT_EXTENSION_PUBLISHED = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)

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


# The STIX pattern of each indicator kind (domain/indicators.py): the observable and the property compared.
INDICATOR_PATTERNS: Mapping[str, str] = {
    "domain-name": "domain-name:value",
    "ipv4-addr": "ipv4-addr:value",
    "ipv6-addr": "ipv6-addr:value",
    "url": "url:value",
    "file-sha256": "file:hashes.'SHA-256'",
    "email-addr": "email-addr:value",
}
# What an indicator without a coder's note says of itself (STIX asks for a description; the validator warns without).
INDICATOR_NOUNS: Mapping[str, str] = {
    "domain-name": "A domain name",
    "ipv4-addr": "An IPv4 address",
    "ipv6-addr": "An IPv6 address",
    "url": "A web address",
    "file-sha256": "A file (by its SHA-256 digest)",
    "email-addr": "An e-mail address",
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


def indicator_pattern(kind: str, value: str) -> str:
    """The STIX pattern that matches one indicator: `[domain-name:value = 'example.com']`."""
    literal = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{INDICATOR_PATTERNS[kind]} = '{literal}']"


def indicator_description(kind: str) -> str:
    """The description of an indicator without a note (interop/stix_read.py reads it back as no note)."""
    return f"{INDICATOR_NOUNS[kind]} seen in a coded incident of transnational repression."


def indicator_id(incident_id: uuid.UUID, kind: str, value: str) -> str:
    """An indicator's id: made from its incident, its kind and its canonical value, so that it is the same in every
    export. Not from its position: removing an earlier indicator would then give a later one another's id, and a
    receiver would read that as the first indicator changing its pattern."""
    return deterministic_id("indicator", str(incident_id), kind, value)


def indicator_object(
    incident: IncidentOut,
    position: int,
    indicator: IncidentIndicator,
    *,
    created_by_ref: str,
    taxonomy: Taxonomy,
) -> Any:
    """One of an incident's indicators as a STIX `indicator`: valid from the day it was first seen (else from when
    the incident was coded), marked like the incident but at least TLP:AMBER. The coder's note is its description
    (without one, `indicator_description`); its position in the incident's list and the days it was seen travel in
    tnrwatch's extension."""
    created, modified = _times(incident.created_at, incident.updated_at)
    first_seen = indicator.first_seen
    return Indicator(
        id=indicator_id(incident.id, indicator.kind, indicator.value),
        created_by_ref=created_by_ref,
        created=created,
        modified=modified,
        name=indicator.value,
        description=indicator.note or indicator_description(indicator.kind),
        indicator_types=["malicious-activity"],
        pattern=indicator_pattern(indicator.kind, indicator.value),
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=dt.datetime.combine(first_seen, dt.time(), dt.UTC) if first_seen else created,
        object_marking_refs=[tlp_marking_id(indicator_tlp(incident.tlp), taxonomy)],
        extensions=_extension(
            position=position,
            first_seen=first_seen.isoformat() if first_seen else None,
            last_seen=indicator.last_seen.isoformat() if indicator.last_seen else None,
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
    strictest TLP of the incidents it is linked to, or `default_tlp` when it is linked to none. An incident's
    indicators come as `indicator` objects `related-to` it, marked at least TLP:AMBER. `mask_free_text` drops the
    free-text descriptions of incidents and actors, and the indicators (a masked bundle is for readers below AMBER).
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
    indicator_objects: list[Any] = []
    for incident, incident_stix in zip(incident_list, incident_objects, strict=True):
        for position, indicator in enumerate([] if mask_free_text else incident.indicators):
            made = indicator_object(incident, position, indicator, created_by_ref=author, taxonomy=taxonomy)
            indicator_objects.append(made)
            link = relationship(
                "related-to", made, incident_stix, created_by_ref=author, tlp_ref=made["object_marking_refs"][0]
            )
            relationships[link["id"]] = link

    marked = [*incident_objects, *actor_objects.values(), *person_objects.values(), *indicator_objects]
    used_tlps = sorted({ref for obj in marked for ref in _refs(obj)})
    tlp_by_id = {term.stix_id: term.code for term in taxonomy.tlp}
    objects = [
        *(tlp_marking(tlp_by_id[ref], taxonomy) for ref in used_tlps),
        project_identity(),
        tnr_extension_definition(),
        node,
        *incident_objects,
        *sorted(actor_objects.values(), key=lambda obj: obj["id"]),
        *sorted(person_objects.values(), key=lambda obj: obj["id"]),
        *sorted(indicator_objects, key=lambda obj: obj["id"]),
        *sorted(relationships.values(), key=lambda obj: obj["id"]),
    ]
    fingerprint = "|".join(f"{obj['id']}@{obj.get('modified', obj.get('created'))}" for obj in objects)
    return Bundle(id=deterministic_id("bundle", fingerprint), objects=objects)


# -- alerts -------------------------------------------------------------------------------------------------------

# How an alert is confirmed enough to be a `report`: at least one of its incidents rests on more than one report
# (the taxonomy's corroborated or verified). Until then it is a `grouping` of suspicious activity.
CONFIRMED_VERIFICATION: frozenset[str] = frozenset({"corroborated", "verified"})
# tnrwatch's opinions on the STIX opinion-enum (a recipient who is unsure neither agrees nor disagrees).
STIX_OPINIONS: Mapping[str, str] = {"agree": "agree", "disagree": "disagree", "unsure": "neutral"}
# What a note says instead of a recipient's words when free text is masked (STIX requires a note's content).
WITHHELD_NOTE = "A recipient corroborated this alert; the note's text is not shared at this marking."
# The `created` of every country `location` a sighting names: a fixed id must always stand for the same content.
SIGHTING_LOCATIONS_PUBLISHED = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


def alert_extension_definition() -> Any:
    """The published definition of tnrwatch's alert extension (version 1.0)."""
    return ExtensionDefinition(
        id=ALERT_EXTENSION_ID,
        created_by_ref=PROJECT_IDENTITY_ID,
        created=ALERT_EXTENSION_PUBLISHED,
        modified=ALERT_EXTENSION_PUBLISHED,
        name="tnrwatch transnational repression alert",
        description=(
            "An alert's level (information, warning, urgent), status (published, withdrawn), expiry and the kinds "
            "of recipients it was addressed to (jurisdiction, eu, partner), on the report or grouping that carries it."
        ),
        schema=ALERT_EXTENSION_SCHEMA,
        version="1.0",
        extension_types=["property-extension"],
    )


def alert_is_confirmed(incidents: Iterable[IncidentOut]) -> bool:
    """Whether an alert about these incidents is shared as a `report` (else as a `grouping`)."""
    return any(incident.verification in CONFIRMED_VERIFICATION for incident in incidents)


def alert_stix_id(alert_id: uuid.UUID, *, confirmed: bool) -> str:
    """`report--<uuid>` or `grouping--<uuid>`: both keep the alert's uuid, so a receiver that sees an alert move
    from grouping to report knows it is the same alert."""
    return stix_id("report" if confirmed else "grouping", alert_id)


def alert_object(
    alert: AlertOut, *, confirmed: bool, object_refs: Sequence[str], created_by_ref: str, tlp_ref: str, mask: bool
) -> Any:
    """A published or withdrawn alert as a `report` (confirmed) or `grouping` (context suspicious-activity)."""
    if alert.status == "draft" or alert.published_at is None:
        raise ValueError(f"alert {alert.id} is a draft: drafts are never shared")
    created, modified = _times(alert.created_at, alert.updated_at)
    common: dict[str, Any] = {
        "id": alert_stix_id(alert.id, confirmed=confirmed),
        "created_by_ref": created_by_ref,
        "created": created,
        "modified": modified,
        "name": alert.title,
        "description": None if mask or not alert.summary else alert.summary,
        "object_refs": list(object_refs),
        "revoked": True if alert.status == "withdrawn" else None,
        "object_marking_refs": [tlp_ref],
        "extensions": _alert_extension(
            level=alert.level,
            status=alert.status,
            expires=_stamp(alert.expires_at) if alert.expires_at else None,
            audience_kinds=sorted({item.kind for item in alert.audience}),
        ),
    }
    if confirmed:
        return Report(report_types=["threat-report"], published=_utc(alert.published_at), **common)
    return Grouping(context="suspicious-activity", **common)


def comment_object(
    alert_ref: str,
    comment: CommentOut,
    position: int,
    *,
    created_by_ref: str,
    tlp_ref: str,
    mask: bool,
    sighting_ref: str | None = None,
) -> Any:
    """A recipient's comment: a corroboration as a `note`, an opinion as an `opinion` on the alert. Neither names
    its author (a staff member of this node); both speak for the node. A corroboration's note also refers to its
    `sighting_ref` (see `sighting_object`), which is how a receiver knows which alert a sighting corroborates."""
    created = _utc(comment.created_at)
    common: dict[str, Any] = {
        "created_by_ref": created_by_ref,
        "created": created,
        "modified": created,
        "object_refs": [alert_ref],
        "object_marking_refs": [tlp_ref],
    }
    key = _comment_key(alert_ref, position, created)
    if comment.kind == "opinion" and comment.opinion is not None:
        return Opinion(
            id=deterministic_id("opinion", *key),
            opinion=STIX_OPINIONS[comment.opinion],
            explanation=None if mask else comment.text,
            **common,
        )
    if sighting_ref is not None:
        common["object_refs"] = [alert_ref, sighting_ref]
    return Note(id=deterministic_id("note", *key), content=WITHHELD_NOTE if mask else comment.text, **common)


def _comment_key(alert_ref: str, position: int, created: dt.datetime) -> tuple[str, str, str]:
    # The alert's uuid part, not its type: a comment keeps its id when the alert moves from grouping to report.
    return (alert_ref.split("--", 1)[1], str(position), created.isoformat())


def country_location(country: str, *, tlp_ref: str) -> Any:
    """A country as a STIX `location` (the country only). Its id is made from the country and the marking, so that
    one id always stands for the same object, whichever alert or node it comes with."""
    return StixLocation(
        id=deterministic_id("location", "country", country, tlp_ref),
        created=SIGHTING_LOCATIONS_PUBLISHED,
        modified=SIGHTING_LOCATIONS_PUBLISHED,
        country=country,
        object_marking_refs=[tlp_ref],
    )


def sighting_object(
    alert_ref: str,
    comment: CommentOut,
    position: int,
    *,
    actor_ref: str,
    location_ref: str | None,
    created_by_ref: str,
    tlp_ref: str,
) -> Any:
    """A corroboration that names a sighted actor, as a `sighting` of its threat-actor: seen once, at the time of
    the comment, where the location says (when it says). No author, no free text: the note carries the words."""
    created = _utc(comment.created_at)
    return Sighting(
        id=deterministic_id("sighting", *_comment_key(alert_ref, position, created)),
        created_by_ref=created_by_ref,
        created=created,
        modified=created,
        first_seen=created,
        last_seen=created,
        count=1,
        sighting_of_ref=actor_ref,
        where_sighted_refs=[location_ref] if location_ref is not None else None,
        object_marking_refs=[tlp_ref],
    )


def alert_objects(
    alert: AlertOut,
    incidents: Sequence[IncidentOut],
    actors: Sequence[ActorOut],
    persons: Sequence[PersonOut],
    *,
    node_name: str,
    taxonomy: Taxonomy,
    mask_free_text: bool,
) -> list[dict[str, Any]]:
    """A published or withdrawn alert and everything it refers to, as JSON-ready STIX 2.1 objects in a fixed order: the
    TLP markings used, the project identity, both extension definitions, the node, the incidents, actors, pseudonyms,
    the incidents' indicators and their relationships (as `bundle_of` makes them; objects not linked to an incident take
    the alert's marking), then the alert (`report` when `alert_is_confirmed`, else `grouping`, `revoked` once
    withdrawn), then its comments as notes and opinions, then the country locations and the sightings of the
    corroborations that name a sighted actor (one of `actors`; a sighting of an actor not given is left out). The
    alert's `object_refs` name the given incidents and actors in the alert's order, or the node when it refers to none
    of them. ValueError for a draft."""
    base = bundle_of(
        incidents,
        actors,
        persons=persons,
        node_name=node_name,
        mask_free_text=mask_free_text,
        default_tlp=alert.tlp,
        taxonomy=taxonomy,
    )
    objects = [_plain(obj) for obj in base.objects]
    author = node_identity(node_name)["id"]
    tlp_ref = tlp_marking_id(alert.tlp, taxonomy)
    given = {obj["id"] for obj in objects}
    wanted = [stix_id("incident", incident_id) for incident_id in alert.incident_ids]
    wanted += [stix_id("threat-actor", actor_id) for actor_id in alert.actor_ids]
    refs = [ref for ref in wanted if ref in given] or [author]
    stix_alert = alert_object(
        alert,
        confirmed=alert_is_confirmed(incidents),
        object_refs=refs,
        created_by_ref=author,
        tlp_ref=tlp_ref,
        mask=mask_free_text,
    )
    comments: list[Any] = []
    locations: dict[str, Any] = {}
    sightings: list[Any] = []
    for position, comment in enumerate(alert.comments):
        actor_ref = stix_id("threat-actor", comment.sighted_actor_id) if comment.sighted_actor_id else None
        sighting = None
        if comment.kind == "corroboration" and actor_ref in given:
            location = country_location(comment.sighted_country, tlp_ref=tlp_ref) if comment.sighted_country else None
            if location is not None:
                locations[location["id"]] = location
            sighting = sighting_object(
                stix_alert["id"],
                comment,
                position,
                actor_ref=str(actor_ref),
                location_ref=location["id"] if location is not None else None,
                created_by_ref=author,
                tlp_ref=tlp_ref,
            )
            sightings.append(sighting)
        comments.append(
            comment_object(
                stix_alert["id"],
                comment,
                position,
                created_by_ref=author,
                tlp_ref=tlp_ref,
                mask=mask_free_text,
                sighting_ref=sighting["id"] if sighting is not None else None,
            )
        )
    markings = [obj for obj in objects if obj["type"] == "marking-definition"]
    if tlp_ref not in given:
        tlp_by_id = {term.stix_id: term.code for term in taxonomy.tlp}
        markings = sorted([*markings, _plain(tlp_marking(tlp_by_id[tlp_ref], taxonomy))], key=lambda obj: obj["id"])
    rest = [obj for obj in objects if obj["type"] != "marking-definition"]
    definition = _plain(alert_extension_definition())
    shared = [stix_alert, *comments, *sorted(locations.values(), key=lambda obj: obj["id"]), *sightings]
    return [*markings, *rest[:2], definition, *rest[2:], *(_plain(obj) for obj in shared)]


def alert_bundle(objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A bundle of JSON-ready objects (e.g. from `alert_objects`) with an id made from their ids and versions."""
    fingerprint = "|".join(f"{obj['id']}@{obj.get('modified', obj.get('created'))}" for obj in objects)
    return {"type": "bundle", "id": deterministic_id("bundle", fingerprint), "objects": [dict(obj) for obj in objects]}


def _alert_extension(**properties: Any) -> dict[str, Any]:
    kept = {key: value for key, value in properties.items() if value not in (None, [], "")}
    return {ALERT_EXTENSION_ID: {"extension_type": "property-extension", **kept}}


def _plain(stix_object: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(stix_object.serialize())
    return parsed


def _stamp(moment: dt.datetime) -> str:
    """A STIX timestamp (UTC, milliseconds, Z)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{_utc(moment).microsecond // 1000:03d}Z"


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
