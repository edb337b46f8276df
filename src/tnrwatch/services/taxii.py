"""The TAXII 2.1 object store: this node's collections, what goes into each, and what a partner reads from them.

Collections (the `collection` key of a `StixObject` row):
- "community": objects marked CLEAR or GREEN, free text masked; every partner reads those within its clearance
  (never an object it sent here itself).
- "partner:<name>": objects meant for that partner at any marking (AMBER and above go only here, and only when
  domain/sharing.py `may_share` allows it); read by that partner alone, within its clearance at read time too.
- "inbox": write-only; partners POST objects to this node there.
Each has a stable id (uuid5 of the node's name and the key), so a partner's pull cursor survives restarts.

Rows are versions: one per (collection, STIX id, modified), added once (the same version again is skipped), in
`date_added` order, strictly increasing within a collection (to the microsecond; a tie is bumped by 1 µs), which is
what `added_after` and the paging cursor compare. Writers take one lock (SQLite's write lock; on PostgreSQL the
audit log's append lock) so a row never commits behind one a reader has already paged past.

Reading is services/taxii_read.py; objects partners send, and status resources, services/taxii_inbox.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.sharing import LOCAL, TLP_ORDER, PartnerView, may_share, stricter
from tnrwatch.errors import FieldError, InvalidInputError, NotFoundError
from tnrwatch.interop import stix
from tnrwatch.services import actors, partners, persons
from tnrwatch.services.changes import hold_append_lock
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import Alert, AlertIncident, StixObject
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy import Taxonomy, default_taxonomy

COMMUNITY = "community"
INBOX = "inbox"
PARTNER_PREFIX = "partner:"
# Fixed namespace of the collections' uuid5 ids. The `.invalid` TLD names nothing that resolves.
COLLECTION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tnrwatch.invalid/taxii/collections")
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
_TICK = dt.timedelta(microseconds=1)
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TYPE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
_TIMESTAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
_CHUNK = 500

# Free text dropped from objects shared below AMBER (domain/sharing.py `mask_free_text`): optional properties are
# removed; a note's content, which STIX requires, is replaced by a fixed sentence.
FREE_TEXT_PROPERTIES = frozenset({"description", "explanation", "abstract", "content"})
EXTENSION_FREE_TEXT = frozenset({"description", "summary", "notes", "note", "comment", "comments", "text", "content"})
REQUIRED_TEXT = {("note", "content"): stix.WITHHELD_NOTE}


# -- collections ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionInfo:
    key: str
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool


def collection_id(node_name: str, key: str) -> str:
    return str(uuid.uuid5(COLLECTION_NAMESPACE, f"{node_name}|{key}"))


def partner_collection(name: str) -> str:
    return PARTNER_PREFIX + name


def collections_for(node: Node, partner: PartnerView) -> list[CollectionInfo]:
    """The collections a partner may use, in a fixed order: the community's, its own, the inbox."""
    name = node.settings.node_name
    own = partner_collection(partner.name)
    return [
        CollectionInfo(
            COMMUNITY,
            collection_id(name, COMMUNITY),
            "Community",
            "Alerts and incidents marked TLP:CLEAR or TLP:GREEN for every partner node, without free text.",
            can_read=True,
            can_write=False,
        ),
        CollectionInfo(
            own,
            collection_id(name, own),
            f"For {partner.name}",
            f"What this node shares with {partner.name} alone, up to its clearance (TLP:{partner.clearance.upper()}).",
            can_read=True,
            can_write=False,
        ),
        CollectionInfo(
            INBOX,
            collection_id(name, INBOX),
            "Inbox",
            "Where partner nodes send STIX objects to this node (write only).",
            can_read=False,
            can_write=True,
        ),
    ]


def collection_for(node: Node, partner: PartnerView, wanted_id: str) -> CollectionInfo:
    """One of the partner's collections by id; NotFoundError for any other (another partner's included)."""
    for collection in collections_for(node, partner):
        if collection.id == wanted_id:
            return collection
    raise NotFoundError("no collection with this id")


# -- objects in, and routing by the TLP rule -----------------------------------------------------------------------


@dataclass(frozen=True)
class StixVersion:
    id: str
    version: str  # the STIX timestamp of the version (`modified`, else `created`, else the date it was added)


@dataclass
class AddResult:
    added: list[StixVersion] = field(default_factory=list)
    skipped: list[StixVersion] = field(default_factory=list)  # already in the collection in this version


@dataclass(frozen=True)
class ParsedObject:
    stix_id: str
    stix_type: str
    spec_version: str
    modified: dt.datetime | None  # None: an object without versions (no `modified`, no `created`)
    body: str  # compact JSON


def parse_object(obj: object) -> ParsedObject:
    """Check what the store needs of a STIX object (a dict with a type, a matching id, well-formed timestamps) and
    serialise it; ValueError saying what is wrong. The object's own content is the STIX validator's business."""
    if not isinstance(obj, Mapping):
        raise ValueError("an object must be a JSON object")
    stix_type, stix_id = obj.get("type"), obj.get("id")
    if not isinstance(stix_type, str) or not TYPE_PATTERN.fullmatch(stix_type):
        raise ValueError("`type` must be a STIX type name")
    if not isinstance(stix_id, str) or not ID_PATTERN.fullmatch(stix_id) or not stix_id.startswith(stix_type + "--"):
        raise ValueError("`id` must be `<type>--<uuid>` of the object's own type")
    spec_version = obj.get("spec_version", "2.1")
    if spec_version not in ("2.0", "2.1"):
        raise ValueError("`spec_version` must be 2.1 (or 2.0)")
    modified = None
    for name in ("modified", "created"):
        if name in obj:
            modified = parse_timestamp(obj[name], name)
            break
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return ParsedObject(stix_id, stix_type, spec_version, modified, body)


def parse_timestamp(value: object, name: str) -> dt.datetime:
    """A STIX/TAXII timestamp (`2026-11-29T12:00:00.000Z`, UTC, up to nanoseconds: kept to the microsecond)."""
    if not isinstance(value, str) or not _TIMESTAMP_PATTERN.fullmatch(value):
        raise ValueError(f"`{name}` must be a timestamp like 2026-11-29T12:00:00.000Z")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"`{name}` is not a valid date and time") from None


def stix_timestamp(moment: dt.datetime, *, micro: bool = False) -> str:
    """UTC with a Z; milliseconds unless the time has finer parts (or `micro`: always microseconds, as `date_added`
    is, so that `added_after` given back as received is exact)."""
    moment = moment.astimezone(dt.UTC)
    fraction = (
        f"{moment.microsecond:06d}" if micro or moment.microsecond % 1000 else f"{moment.microsecond // 1000:03d}"
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def add_objects(
    session: Session,
    collection: str,
    objects: Sequence[Mapping[str, Any]],
    tlp: str,
    source: str,
) -> AddResult:
    """Store `objects` in `collection` marked `tlp` (each object's own TLP marking when it is stricter), in the
    caller's write transaction. The same version of an object again
    (or an object without versions again) is skipped and reported. InvalidInputError naming each bad object by its
    position, before anything is stored."""
    if tlp not in TLP_ORDER:
        raise ValueError(f"unknown TLP marking {tlp!r}")
    parsed: list[ParsedObject] = []
    errors: list[FieldError] = []
    for position, obj in enumerate(objects):
        try:
            parsed.append(parse_object(obj))
        except ValueError as exc:
            errors.append(FieldError(("objects", position), str(exc)))
    if errors:
        raise InvalidInputError("some objects cannot be stored", errors)
    marking_tlps = _marking_tlps()
    tlps = [object_tlp(obj, tlp, marking_tlps) for obj in objects]
    return _insert(session, collection, parsed, tlps, source)


def _insert(
    session: Session, collection: str, parsed: Sequence[ParsedObject], tlps: Sequence[str], source: str
) -> AddResult:
    _lock(session)
    held = _held_versions(session, collection, {obj.stix_id for obj in parsed})
    last = session.scalar(select(func.max(StixObject.date_added)).where(StixObject.collection == collection))
    result = AddResult()
    rows: list[dict[str, Any]] = []
    for obj, tlp in zip(parsed, tlps, strict=True):
        versions = held.setdefault(obj.stix_id, set())
        if (obj.modified is None and versions) or (obj.modified is not None and obj.modified in versions):
            result.skipped.append(StixVersion(obj.stix_id, stix_timestamp(obj.modified or min(versions))))
            continue
        now = utcnow()
        added = now if last is None or now > last else last + _TICK
        last = added
        modified = obj.modified or added
        versions.add(modified)
        rows.append(
            {
                "collection": collection,
                "stix_id": obj.stix_id,
                "stix_type": obj.stix_type,
                "spec_version": obj.spec_version,
                "modified": modified,
                "date_added": added,
                "tlp": tlp,
                "source": source,
                "body": obj.body,
            }
        )
        result.added.append(StixVersion(obj.stix_id, stix_timestamp(modified)))
    if rows:
        session.execute(insert(StixObject), rows)
    return result


def _lock(session: Session) -> None:
    """Serialise writers to the object store until commit. On PostgreSQL this is the audit log's append lock: a
    transaction that publishes an alert appends to the audit log, then stores objects; an import may store objects
    before it appends; with two locks they could each hold one and wait for the other."""
    hold_append_lock(session)


def _held_versions(session: Session, collection: str, ids: set[str]) -> dict[str, set[dt.datetime]]:
    held: dict[str, set[dt.datetime]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for stix_id, modified in session.execute(
            select(StixObject.stix_id, StixObject.modified).where(
                StixObject.collection == collection, StixObject.stix_id.in_(chunk)
            )
        ):
            held.setdefault(stix_id, set()).add(modified)
    return held


def _marking_tlps(taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """TLP code by its official marking-definition id (the same in every taxonomy version)."""
    vocabulary = (taxonomy or default_taxonomy()).tlp
    return {term.stix_id: term.code for term in vocabulary if term.stix_id}


def object_tlp(obj: Mapping[str, Any], floor: str, marking_tlps: Mapping[str, str]) -> str:
    """The stricter of `floor` and the strictest TLP 2.0 marking the object carries."""
    tlp = floor
    refs = obj.get("object_marking_refs")
    for ref in refs if isinstance(refs, list) else ():
        code = marking_tlps.get(ref) if isinstance(ref, str) else None
        if code is not None:
            tlp = stricter(tlp, code)
    return tlp


def _masked_extension_value(key: str, value: Any) -> Any:
    """Below AMBER an incident's locations go as their countries only: a place and its coordinates can point at a
    person's home or refuge, and the community needs no more than the country to map who is hit where."""
    if key != "locations" or not isinstance(value, list):
        return value
    return [
        {"country": item["country"], "geo_precision": "country"}
        if isinstance(item, Mapping) and "country" in item
        else item
        for item in value
    ]


def masked(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a STIX object without free text (descriptions, explanations, a note's words; the same in
    extensions) and with locations as countries: what an audience below AMBER receives."""
    copy: dict[str, Any] = {}
    stix_type = obj.get("type")
    for key, value in obj.items():
        if key in FREE_TEXT_PROPERTIES:
            replacement = REQUIRED_TEXT.get((str(stix_type), key))
            if replacement is not None:
                copy[key] = replacement
            continue
        if key == "extensions" and isinstance(value, Mapping):
            copy[key] = {
                name: (
                    {k: _masked_extension_value(k, v) for k, v in block.items() if k not in EXTENSION_FREE_TEXT}
                    if isinstance(block, Mapping)
                    else block
                )
                for name, block in value.items()
            }
            continue
        copy[key] = value
    return copy


def share(
    session: Session,
    node: Node,
    objects: Sequence[Mapping[str, Any]],
    tlp: str,
    source: str,
    named: frozenset[str],
) -> dict[str, AddResult]:
    """Route `objects` (marked `tlp`, or stricter where an object says so) into the collections the TLP rule
    allows, in the caller's write transaction: what is CLEAR or GREEN goes, masked, to the community; what is
    AMBER and above goes, whole, to the collection of each active partner `may_share` admits (named recipients of
    an object written here; clients, for AMBER received from `source`). What collection got what, by key."""
    marking_tlps = _marking_tlps(node.taxonomy)
    parsed: list[tuple[Mapping[str, Any], str]] = []
    errors: list[FieldError] = []
    for position, obj in enumerate(objects):
        try:
            parse_object(obj)
        except ValueError as exc:
            errors.append(FieldError(("objects", position), str(exc)))
        else:
            parsed.append((obj, object_tlp(obj, tlp, marking_tlps)))
    if errors:
        raise InvalidInputError("some objects cannot be shared", errors)
    routed: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    active = partners.active_partners(session)
    for obj, object_marking in parsed:
        if object_marking in ("clear", "green"):
            routed.setdefault(COMMUNITY, []).append((masked(obj), object_marking))
            continue
        for partner in active:
            if may_share(object_marking, source=source, named=named, partner=partner):
                routed.setdefault(partner_collection(partner.name), []).append((obj, object_marking))
    results: dict[str, AddResult] = {}
    for collection, items in routed.items():
        results[collection] = _insert(
            session, collection, [parse_object(obj) for obj, _ in items], [tlp for _, tlp in items], source
        )
    return results


COMMENT_TYPES = frozenset({"note", "opinion", "sighting", "location"})


def share_alert(session: Session, node: Node, alert: AlertOut) -> dict[str, AddResult]:
    """Share a published (or withdrawn, then as revoked) alert with its STIX objects: the incidents and actors it
    links, the pseudonyms of the incidents' persons, comments, markings. Shared when it is CLEAR or GREEN (the
    community) or names partner nodes; otherwise nothing leaves the node and the result is empty. An alert received
    from a partner goes on only as its marking allows, and this node's comments on it go back to that partner."""
    named = frozenset(item.value for item in alert.audience if item.kind == "partner")
    source = session.scalar(select(Alert.source_partner).where(Alert.uuid == alert.id)) or LOCAL
    if alert.published_at is None or (alert.tlp not in ("clear", "green") and not named and source == LOCAL):
        return {}
    incident_ids = list(
        session.scalars(
            select(AlertIncident.incident_id)
            .join(Alert, Alert.id == AlertIncident.alert_id)
            .where(Alert.uuid == alert.id)
            .order_by(AlertIncident.position)
        )
    )
    incidents = load_incidents(session, incident_ids, node.taxonomy)
    operator = Principal.operator()
    actor_list = [actors.get_actor(node, operator, actor_id) for actor_id in alert.actor_ids]
    person_ids = sorted({link.id for incident in incidents for link in incident.persons})
    person_list = [persons.get_person(node, operator, person_id) for person_id in person_ids]  # pseudonyms only
    objects = stix.alert_objects(
        alert,
        incidents,
        actor_list,
        person_list,
        node_name=node.settings.node_name,
        taxonomy=node.taxonomy,
        mask_free_text=False,  # `share` masks what goes below AMBER
    )
    if source != LOCAL:
        # A received alert goes on as its marking allows; what this node's staff said about it (their notes,
        # opinions and sightings) is this node's own, and goes back to the partner the alert came from.
        ours = [obj for obj in objects if obj["type"] in COMMENT_TYPES]
        returned = share(session, node, ours, alert.tlp, LOCAL, frozenset({source})) if ours else {}
        others = [obj for obj in objects if obj["type"] not in COMMENT_TYPES]
        return {**share(session, node, others, alert.tlp, source, named), **returned}
    return share(session, node, objects, alert.tlp, source, named)
