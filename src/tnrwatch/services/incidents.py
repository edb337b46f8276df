"""Incidents: create, read, update and search, with facet counts and keyset pagination."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from tnrwatch.domain.countries import country_name
from tnrwatch.domain.filters import FACET_NAMES, SORT_KEYS, IncidentFilter
from tnrwatch.domain.incident import INCIDENT_FIELDS, IncidentIn, IncidentOut
from tnrwatch.domain.validation import validate
from tnrwatch.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from tnrwatch.services import outbox
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.persons import visible_persons
from tnrwatch.services.policy import (
    TLP_ALL,
    Principal,
    may_write_record,
    read_scope,
    record_jurisdiction,
    require,
)
from tnrwatch.store import queries
from tnrwatch.store.incidents import (
    LinkIds,
    PreparedIncident,
    Stamp,
    existing_incident_uuids,
    insert_prepared,
    load_incidents,
    prepare_incident,
    replace_incident,
    resolve_links,
)
from tnrwatch.store.models import Incident, Person
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy import Taxonomy


@dataclass(frozen=True)
class IncidentQuery:
    filter: IncidentFilter = field(default_factory=IncidentFilter)
    sort: str = "-date"
    limit: int = 50
    cursor: str | None = None
    facets: Sequence[str] = ()
    include_total: bool = False


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class IncidentPage:
    items: list[IncidentOut]
    next_cursor: str | None
    total: int | None = None
    facets: dict[str, list[FacetValue]] | None = None


def parse_incident(node: Node, raw: Mapping[str, Any] | IncidentIn) -> IncidentIn:
    if isinstance(raw, IncidentIn):
        return raw
    return validate(IncidentIn, raw, node.taxonomy, what="incident")


def link_errors(incident: PreparedIncident, links: LinkIds) -> list[FieldError]:
    """Errors for person and actor links that name no stored person or actor."""
    errors = [
        FieldError(("persons", index, "id"), f"no person with id {person}")
        for index, (person, _) in enumerate(incident.persons)
        if person not in links.persons
    ]
    errors += [
        FieldError(("actors", index, "id"), f"no actor with id {actor}")
        for index, (actor, _) in enumerate(incident.actors)
        if actor not in links.actors
    ]
    return errors


def stamp(node: Node, principal: Principal) -> Stamp:
    return Stamp(
        at=utcnow(),
        taxonomy_version=node.taxonomy.version,
        account_id=principal.account_id,
        jurisdiction=record_jurisdiction(principal),
    )


def hidden_incidents(principal: Principal) -> ColumnElement[bool] | None:
    """The incidents `principal` may not read (services/policy.py, ReadScope), as a condition on `Incident` written
    for the (jurisdiction_code, tlp) index: few rows on most nodes, found without reading the others. None: nothing is
    hidden from this principal."""
    scope = read_scope(principal)
    if scope.everything:
        return None
    hidden: list[ColumnElement[bool]] = []
    if scope.node_level != TLP_ALL:
        hidden.append(and_(Incident.jurisdiction_code.is_(None), Incident.tlp.in_(sorted(TLP_ALL - scope.node_level))))
    foreign: list[ColumnElement[bool]] = [Incident.jurisdiction_code.is_not(None)]
    if scope.own_jurisdiction is not None:
        foreign.append(Incident.jurisdiction_code != scope.own_jurisdiction)
    unshared: ColumnElement[bool] = Incident.shared_with_eu.is_(False)
    if TLP_ALL - scope.shared:
        unshared = or_(unshared, Incident.tlp.in_(sorted(TLP_ALL - scope.shared)))
    hidden.append(and_(*foreign, unshared))
    return or_(*hidden)


def visible_incidents(session: Session, principal: Principal) -> list[ColumnElement[bool]]:
    """The incidents `principal` may read, as conditions on `Incident` for a search: none at all when nothing on
    this node is hidden from them (searches and facets keep their index-only paths), else "not one of the hidden"."""
    hidden = hidden_incidents(principal)
    if hidden is None or session.scalar(select(Incident.id).where(hidden).limit(1)) is None:
        return []
    return [Incident.id.not_in(select(Incident.id).where(hidden))]


def visible_row(session: Session, principal: Principal, incident_uuid: uuid.UUID) -> Incident:
    """The incident's row, when `principal` may read it; NotFoundError otherwise (as if it did not exist)."""
    row = _row(session, incident_uuid)
    _readable(principal, row)
    return row


def _hidden_person_errors(session: Session, principal: Principal, incident: PreparedIncident) -> list[FieldError]:
    """A person another focal point recorded is unknown here: linking to it is refused as to a missing person."""
    wanted = {person for person, _ in incident.persons}
    if not wanted:
        return []
    seen = set(session.scalars(select(Person.uuid).where(Person.uuid.in_(wanted), *visible_persons(principal))))
    return [
        FieldError(("persons", index, "id"), f"no person with id {person}")
        for index, (person, _) in enumerate(incident.persons)
        if person not in seen
    ]


def _readable(principal: Principal, row: Incident) -> None:
    """NotFoundError for an incident `principal` may not read: as if it did not exist."""
    if not read_scope(principal).admits(row.jurisdiction_code, row.tlp, row.shared_with_eu):
        raise NotFoundError(f"no incident with id {row.uuid}")


def _writable(principal: Principal, row: Incident) -> None:
    _readable(principal, row)
    if not may_write_record(principal, row.jurisdiction_code):
        owner = row.jurisdiction_code or "the node"
        raise ForbiddenError(f"this incident belongs to {owner}: only its own staff change it")


def create_incident(node: Node, principal: Principal, raw: Mapping[str, Any] | IncidentIn) -> IncidentOut:
    require(principal, "incident:write")
    incident = parse_incident(node, raw)
    with node.store.writing() as session:
        incident_uuid = add_incident(session, node, principal, incident)
        return _load_one(session, incident_uuid, node.taxonomy)


def add_incident(session: Session, node: Node, principal: Principal, incident: IncidentIn) -> uuid.UUID:
    """Store a validated incident in the caller's write transaction and record the change; its id. The caller has
    checked the permission (services that create an incident along with other records share one transaction)."""
    prepared = prepare_incident(incident)
    links = resolve_links(session, [prepared])
    errors = link_errors(prepared, links) or _hidden_person_errors(session, principal, prepared)
    if errors:
        raise InvalidInputError("the incident links to unknown records", errors)
    if incident.id is not None and existing_incident_uuids(session, [incident.id]):
        raise ConflictError(f"an incident with id {incident.id} already exists")
    [incident_uuid] = insert_prepared(session, [prepared], stamp(node, principal), links)
    record_change(session, principal, "create", "incident", incident_uuid, incident.model_fields_set)
    outbox.enqueue(session, "incident", "created", incident_uuid)
    return incident_uuid


def get_incident(node: Node, principal: Principal, incident_uuid: uuid.UUID) -> IncidentOut:
    require(principal, "incident:read")
    with node.store.reading() as session:
        _readable(principal, _row(session, incident_uuid))
        return _load_one(session, incident_uuid, node.taxonomy)


@dataclass(frozen=True)
class Ownership:
    jurisdiction: str | None
    shared_with_eu: bool


def ownership(node: Node, principal: Principal, incident_uuid: uuid.UUID) -> Ownership:
    """Who owns an incident and whether it is shared with the EU level."""
    require(principal, "incident:read")
    with node.store.reading() as session:
        row = _row(session, incident_uuid)
        _readable(principal, row)
        return Ownership(row.jurisdiction_code, row.shared_with_eu)


def share_with_eu(node: Node, principal: Principal, incident_uuid: uuid.UUID, shared: bool) -> Ownership:
    """Share a jurisdiction's incident with the EU level (its analysts then read it, below TLP:RED), or stop."""
    require(principal, "incident:write")
    with node.store.writing() as session:
        row = _row(session, incident_uuid)
        _writable(principal, row)
        if row.jurisdiction_code is None:
            raise ConflictError("this incident is the node's own: the EU level reads it already")
        if row.shared_with_eu != shared:
            row.shared_with_eu = shared
            record_change(
                session, principal, "share" if shared else "unshare", "incident", incident_uuid, ["shared_with_eu"]
            )
            # Shared: the EU level's subscribers may read it now. Either way, what partners hold of it follows
            # (services/incident_sharing.py: shared out, or revoked).
            outbox.enqueue(session, "incident", "updated", incident_uuid)
        return Ownership(row.jurisdiction_code, row.shared_with_eu)


def update_incident(
    node: Node,
    principal: Principal,
    incident_uuid: uuid.UUID,
    patch: Mapping[str, Any],
    expected_version: int | None = None,
) -> IncidentOut:
    """Apply a partial update: each field given replaces the stored one whole (lists included); the result is
    validated as a whole incident. With `expected_version`, refuse when someone else changed it first."""
    require(principal, "incident:write")
    unknown = [FieldError((name,), "unknown field") for name in patch if name not in INCIDENT_FIELDS or name == "id"]
    if unknown:
        raise InvalidInputError("the update names fields an incident does not have", unknown)
    with node.store.writing() as session:
        row = _row(session, incident_uuid)
        _writable(principal, row)
        if expected_version is not None and row.version != expected_version:
            raise PreconditionFailedError(
                f"the incident is at version {row.version}, not {expected_version}: "
                "reload it and apply the change again"
            )
        [current] = load_incidents(session, [row.id], node.taxonomy)
        merged = {**current.model_dump(include=set(INCIDENT_FIELDS) - {"id"}), **patch}
        incident = validate(IncidentIn, merged, node.taxonomy, what="incident")
        prepared = prepare_incident(incident)
        links = resolve_links(session, [prepared])
        errors = link_errors(prepared, links) or _hidden_person_errors(session, principal, prepared)
        if errors:
            raise InvalidInputError("the incident links to unknown records", errors)
        verification_before = row.verification
        replace_incident(session, row, incident, stamp(node, principal), links)
        record_change(session, principal, "update", "incident", incident_uuid, patch.keys())
        event = outbox.incident_event(verification_before, incident.verification)
        outbox.enqueue(session, "incident", event, incident_uuid)
        return _load_one(session, incident_uuid, node.taxonomy)


def replace_stored_incident(
    session: Session, node: Node, principal: Principal, incident_uuid: uuid.UUID, incident: IncidentIn
) -> None:
    """Overwrite a stored incident whole with `incident` in the caller's write transaction, record the change and
    tell subscribers (imports; the caller has checked the permission and that the record is its to change)."""
    row = _row(session, incident_uuid)
    prepared = prepare_incident(incident)
    links = resolve_links(session, [prepared])
    errors = link_errors(prepared, links)
    if errors:
        raise InvalidInputError("the incident links to unknown records", errors)
    verification_before = row.verification
    replace_incident(session, row, incident, stamp(node, principal), links)
    record_change(session, principal, "update", "incident", incident_uuid, incident.model_fields_set - {"id"})
    event = outbox.incident_event(verification_before, incident.verification)
    outbox.enqueue(session, "incident", event, incident_uuid)


def _row(session: Session, incident_uuid: uuid.UUID) -> Incident:
    row = session.scalar(select(Incident).where(Incident.uuid == incident_uuid))
    if row is None:
        raise NotFoundError(f"no incident with id {incident_uuid}")
    return row


def _load_one(session: Session, incident_uuid: uuid.UUID, taxonomy: Taxonomy) -> IncidentOut:
    row_id = session.scalar(select(Incident.id).where(Incident.uuid == incident_uuid))
    if row_id is None:
        raise NotFoundError(f"no incident with id {incident_uuid}")
    return load_incidents(session, [row_id], taxonomy)[0]


def search_incidents(node: Node, principal: Principal, query: IncidentQuery) -> IncidentPage:
    require(principal, "incident:read")
    errors = [
        FieldError(("facets",), f"unknown facet {name!r}; valid facets: {', '.join(FACET_NAMES)}")
        for name in query.facets
        if name not in FACET_NAMES
    ]
    if query.sort not in SORT_KEYS:
        errors.append(FieldError(("sort",), f"unknown sort {query.sort!r}; valid: {', '.join(SORT_KEYS)}"))
    after = None
    if query.cursor:
        try:
            after = decode_cursor(query.cursor, query.sort)
        except ValueError as exc:
            errors.append(FieldError(("cursor",), str(exc)))
    if errors:
        raise InvalidInputError("the search is invalid", errors)
    # The page's ids, the total and the facets where the map counts (the columnar copy when it can answer); the
    # page's incidents from the database.
    with node.counting_session(query.filter, query.sort) as (session, dialect):
        where = queries.conditions(query.filter, node.taxonomy, dialect)
        where += visible_incidents(session, principal)
        with queries.MatchingSet(session, where, query.sort) as matching:
            rows = matching.page(query.limit + 1, after)
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            total = matching.count() if query.include_total else None
            counts = matching.facets(list(dict.fromkeys(query.facets)), node.taxonomy) if query.facets else None
    with node.store.reading() as session:
        items = load_incidents(session, [row_id for row_id, _ in rows], node.taxonomy)
        next_cursor = encode_cursor(query.sort, rows[-1][1], rows[-1][0]) if more and rows else None
        facets = None
        if counts is not None:
            facets = {
                name: [FacetValue(v, facet_label(node.taxonomy, name, v), n) for v, n in pairs]
                for name, pairs in counts.items()
            }
    return IncidentPage(items=items, next_cursor=next_cursor, total=total, facets=facets)


def facet_label(taxonomy: Taxonomy, facet: str, value: str) -> str:
    vocabularies = {
        "tactic": "tactics",
        "tactic_family": "tactic_families",
        "target_category": "target_categories",
        "vulnerability": "vulnerability_flags",
        "verification": "verification_levels",
        "tlp": "tlp",
        "host_state_role": "host_state_roles",
        "date_precision": "date_precision",
    }
    if facet in ("origin", "host"):
        return country_name(value)
    if facet in vocabularies:
        return taxonomy.vocabulary(vocabularies[facet]).label(value)
    return value


def encode_cursor(sort: str, value: Any, row_id: int) -> str:
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    payload = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> queries.Keyset:
    """Read a cursor made by `encode_cursor`; raise ValueError when it is damaged or belongs to another sort order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("the cursor is damaged; start again from the first page") from None
    if cursor_sort != sort:
        raise ValueError(f"the cursor belongs to sort {cursor_sort!r}, not {sort!r}")
    if not isinstance(row_id, int) or not isinstance(value, str):
        raise ValueError("the cursor is damaged; start again from the first page")
    try:
        parsed: Any = dt.date.fromisoformat(value) if sort.lstrip("-") == "date" else dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("the cursor is damaged; start again from the first page") from None
    return queries.Keyset(sort=sort, value=parsed, id=row_id)
