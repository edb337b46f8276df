"""Writing and reading incidents with their locations, codes, sources, links and indicators, many at a time.

Writes go to the driver in one executemany per table (`store.bulk`); reads load a page of incidents with one query per
child table.
Callers resolve person and actor uuids to row ids first (`resolve_links`), so that a bad reference is reported with the
record it came from before anything is written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tnrwatch.domain.incident import ActorLink, IncidentIn, IncidentOut, Indicator, Location, PersonLink, Source
from tnrwatch.store.bulk import BulkWriter
from tnrwatch.store.models import (
    Account,
    Actor,
    Incident,
    IncidentActor,
    IncidentIndicator,
    IncidentLocation,
    IncidentOrigin,
    IncidentPerson,
    IncidentTactic,
    IncidentTarget,
    IncidentVulnerability,
    Person,
)
from tnrwatch.store.models import Source as SourceRow
from tnrwatch.taxonomy import Taxonomy

SCALAR_FIELDS = (
    "title",
    "summary",
    "date_start",
    "date_end",
    "date_precision",
    "host_state_role",
    "target_count",
    "mass_event",
    "verification",
    "tlp",
    "provenance",
    "synthetic",
)
_CODE_TABLES: tuple[tuple[str, Any, str], ...] = (
    ("origin_countries", IncidentOrigin, "country"),
    ("tactics", IncidentTactic, "tactic"),
    ("target_categories", IncidentTarget, "category"),
    ("vulnerability_flags", IncidentVulnerability, "flag"),
)
_LOCATION_COLUMNS = ("country", "geo_precision", "admin1", "place", "lat", "lon", "obfuscated")
_SOURCE_COLUMNS = ("title", "url", "publisher", "published_on", "reliability", "credibility")
_INDICATOR_COLUMNS = ("kind", "value", "note", "first_seen", "last_seen")
_INCIDENT_COLUMNS = (
    "id",
    "uuid",
    *SCALAR_FIELDS,
    "taxonomy_version",
    "version",
    "created_at",
    "updated_at",
    "coded_by_id",
    "jurisdiction_code",
    "shared_with_eu",
)


@dataclass(frozen=True)
class Stamp:
    """Who writes and when, applied to every incident of one write."""

    at: dt.datetime
    taxonomy_version: str
    account_id: int | None
    jurisdiction: str | None = None  # the owner of incidents created by this write (services/policy.py)


@dataclass(frozen=True)
class LinkIds:
    """Person and actor row ids by uuid, as resolved by `resolve_links`."""

    persons: Mapping[uuid.UUID, int]
    actors: Mapping[uuid.UUID, int]


class PreparedIncident(NamedTuple):
    """A validated incident flattened into the values the store writes: plain tuples, cheap to pickle, so that
    imports can validate and prepare in worker processes and send the result to the one process that writes."""

    id: uuid.UUID | None
    scalars: tuple[Any, ...]  # SCALAR_FIELDS, then taxonomy_version (None: the node's)
    locations: tuple[tuple[Any, ...], ...]  # _LOCATION_COLUMNS
    sources: tuple[tuple[Any, ...], ...]  # _SOURCE_COLUMNS
    codes: tuple[tuple[str, ...], ...]  # one tuple per _CODE_TABLES entry
    persons: tuple[tuple[uuid.UUID, str], ...]  # (person uuid, role)
    actors: tuple[tuple[uuid.UUID, str], ...]  # (actor uuid, role)
    indicators: tuple[tuple[Any, ...], ...] = ()  # _INDICATOR_COLUMNS


def prepare_incident(incident: IncidentIn) -> PreparedIncident:
    return PreparedIncident(
        id=incident.id,
        scalars=(*(getattr(incident, name) for name in SCALAR_FIELDS), incident.taxonomy_version),
        locations=tuple(tuple(getattr(loc, c) for c in _LOCATION_COLUMNS) for loc in incident.locations),
        sources=tuple(tuple(getattr(src, c) for c in _SOURCE_COLUMNS) for src in incident.sources),
        codes=tuple(tuple(getattr(incident, field)) for field, _, _ in _CODE_TABLES),
        persons=tuple((link.id, link.role) for link in incident.persons),
        actors=tuple((link.id, link.role) for link in incident.actors),
        indicators=tuple(tuple(getattr(ind, c) for c in _INDICATOR_COLUMNS) for ind in incident.indicators),
    )


def resolve_links(session: Session, incidents: Iterable[PreparedIncident]) -> LinkIds:
    person_uuids: set[uuid.UUID] = set()
    actor_uuids: set[uuid.UUID] = set()
    for incident in incidents:
        person_uuids.update(person for person, _ in incident.persons)
        actor_uuids.update(actor for actor, _ in incident.actors)
    return LinkIds(
        persons=_ids_by_uuid(session, Person, person_uuids),
        actors=_ids_by_uuid(session, Actor, actor_uuids),
    )


def _ids_by_uuid(session: Session, model: Any, uuids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    found: dict[uuid.UUID, int] = {}
    ordered = sorted(uuids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for row_uuid, row_id in session.execute(select(model.uuid, model.id).where(model.uuid.in_(chunk))):
            found[row_uuid] = row_id
    return found


def existing_incident_uuids(session: Session, uuids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    return BulkWriter(session.connection()).existing_uuids(Incident.__tablename__, list(uuids))


def insert_incidents(
    session: Session, incidents: Sequence[IncidentIn], stamp: Stamp, links: LinkIds
) -> list[uuid.UUID]:
    """Insert `incidents` (ids given or new) with all their children; return their uuids in order."""
    return insert_prepared(session, [prepare_incident(incident) for incident in incidents], stamp, links)


def insert_prepared(
    session: Session, incidents: Sequence[PreparedIncident], stamp: Stamp, links: LinkIds
) -> list[uuid.UUID]:
    """Insert prepared incidents with all their children; return their uuids in order.

    Runs inside the caller's write transaction; rows go to the driver in one executemany per table (`store.bulk`).
    """
    if not incidents:
        return []
    writer = BulkWriter(session.connection())
    uuids = [incident.id or uuid.uuid4() for incident in incidents]
    ids = writer.reserve_ids(Incident.__tablename__, len(incidents))
    # version, created_at, updated_at, coded_by_id, jurisdiction_code, shared_with_eu
    bookkeeping = (1, stamp.at, stamp.at, stamp.account_id, stamp.jurisdiction, False)
    writer.insert(
        Incident.__tablename__,
        _INCIDENT_COLUMNS,
        [
            (
                row_id,
                incident_uuid,
                *incident.scalars[:-1],
                incident.scalars[-1] or stamp.taxonomy_version,
                *bookkeeping,
            )
            for row_id, incident_uuid, incident in zip(ids, uuids, incidents, strict=True)
        ],
    )
    writer.index_full_text(ids[0], ids[-1])
    _insert_children(writer, list(zip(ids, incidents, strict=True)), links)
    return uuids


def replace_incident(session: Session, row: Incident, incident: IncidentIn, stamp: Stamp, links: LinkIds) -> None:
    """Overwrite a stored incident with `incident` (all fields) and bump its version."""
    for name in SCALAR_FIELDS:
        setattr(row, name, getattr(incident, name))
    row.taxonomy_version = incident.taxonomy_version or stamp.taxonomy_version
    row.version += 1
    row.updated_at = stamp.at
    session.flush()
    for model in (
        IncidentLocation,
        SourceRow,
        IncidentPerson,
        IncidentActor,
        IncidentIndicator,
        *(t for _, t, _ in _CODE_TABLES),
    ):
        session.execute(delete(model).where(model.incident_id == row.id))
    session.expire(row)
    _insert_children(BulkWriter(session.connection()), [(row.id, prepare_incident(incident))], links)


def _insert_children(writer: BulkWriter, pairs: Sequence[tuple[int, PreparedIncident]], links: LinkIds) -> None:
    locations: list[tuple[Any, ...]] = []
    sources: list[tuple[Any, ...]] = []
    codes: list[list[tuple[int, str]]] = [[] for _ in _CODE_TABLES]
    persons: list[tuple[int, int, str]] = []
    actors: list[tuple[int, int, str]] = []
    indicators: list[tuple[Any, ...]] = []
    for incident_id, incident in pairs:
        locations.extend((incident_id, position, *values) for position, values in enumerate(incident.locations))
        sources.extend((incident_id, position, *values) for position, values in enumerate(incident.sources))
        for rows, values in zip(codes, incident.codes, strict=True):
            rows.extend((incident_id, code) for code in values)
        persons.extend((incident_id, links.persons[person], role) for person, role in incident.persons)
        actors.extend((incident_id, links.actors[actor], role) for actor, role in incident.actors)
        indicators.extend((incident_id, position, *values) for position, values in enumerate(incident.indicators))
    writer.insert(IncidentLocation.__tablename__, ("incident_id", "position", *_LOCATION_COLUMNS), locations)
    writer.insert(SourceRow.__tablename__, ("incident_id", "position", *_SOURCE_COLUMNS), sources)
    for (_, model, column), rows in zip(_CODE_TABLES, codes, strict=True):
        writer.insert(model.__tablename__, ("incident_id", column), rows)
    writer.insert(IncidentPerson.__tablename__, ("incident_id", "person_id", "role"), persons)
    writer.insert(IncidentActor.__tablename__, ("incident_id", "actor_id", "role"), actors)
    writer.insert(IncidentIndicator.__tablename__, ("incident_id", "position", *_INDICATOR_COLUMNS), indicators)


def load_incidents(session: Session, ids: Sequence[int], taxonomy: Taxonomy) -> list[IncidentOut]:
    """Load the incidents with these row ids, in the order given; codes come back in taxonomy order."""
    if not ids:
        return []
    rows = session.execute(
        select(Incident, Account.username)
        .outerjoin(Account, Incident.coded_by_id == Account.id)
        .where(Incident.id.in_(ids))
    ).all()
    by_id = {incident.id: (incident, username) for incident, username in rows}
    codes = {field: _grouped(session, model, column, ids) for field, model, column in _CODE_TABLES}
    order = {
        "origin_countries": None,
        "tactics": taxonomy.tactics,
        "target_categories": taxonomy.target_categories,
        "vulnerability_flags": taxonomy.vulnerability_flags,
    }
    for field, vocabulary in order.items():
        for values in codes[field].values():
            values.sort(key=vocabulary.rank if vocabulary is not None else None)
    locations = _grouped_rows(session, IncidentLocation, ids, _LOCATION_COLUMNS, order=IncidentLocation.position)
    sources = _grouped_rows(session, SourceRow, ids, _SOURCE_COLUMNS, order=SourceRow.position)
    persons = _links(session, IncidentPerson, Person, IncidentPerson.person_id, ids)
    actors = _links(session, IncidentActor, Actor, IncidentActor.actor_id, ids)
    indicators = _grouped_rows(session, IncidentIndicator, ids, _INDICATOR_COLUMNS, order=IncidentIndicator.position)
    out = []
    for incident_id in ids:
        if incident_id not in by_id:
            continue
        row, username = by_id[incident_id]
        tactics = codes["tactics"].get(incident_id, [])
        # Stored rows were validated on the way in; model_construct skips re-validating them on every read.
        out.append(
            IncidentOut.model_construct(
                id=row.uuid,
                **{name: getattr(row, name) for name in SCALAR_FIELDS},
                locations=[Location.model_construct(**values) for values in locations.get(incident_id, [])],
                origin_countries=codes["origin_countries"].get(incident_id, []),
                tactics=tactics,
                target_categories=codes["target_categories"].get(incident_id, []),
                vulnerability_flags=codes["vulnerability_flags"].get(incident_id, []),
                sources=[Source.model_construct(**values) for values in sources.get(incident_id, [])],
                persons=[PersonLink.model_construct(id=u, role=r) for u, r in persons.get(incident_id, [])],
                actors=[ActorLink.model_construct(id=u, role=r) for u, r in actors.get(incident_id, [])],
                indicators=[Indicator.model_construct(**values) for values in indicators.get(incident_id, [])],
                taxonomy_version=row.taxonomy_version,
                tactic_families=_families(tactics, taxonomy),
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                coded_by=username,
            )
        )
    return out


def _grouped(session: Session, model: Any, column: str, ids: Sequence[int]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    statement = select(model.incident_id, getattr(model, column)).where(model.incident_id.in_(ids))
    for incident_id, code in session.execute(statement):
        grouped[incident_id].append(code)
    return grouped


def _grouped_rows(
    session: Session, model: Any, ids: Sequence[int], columns: Sequence[str], order: Any
) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    statement = (
        select(model.incident_id, *(getattr(model, c) for c in columns))
        .where(model.incident_id.in_(ids))
        .order_by(model.incident_id, order)
    )
    for incident_id, *values in session.execute(statement):
        grouped[incident_id].append(dict(zip(columns, values, strict=True)))
    return grouped


def _links(
    session: Session, link_model: Any, target: Any, target_id: Any, ids: Sequence[int]
) -> dict[int, list[tuple[uuid.UUID, str]]]:
    grouped: dict[int, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    statement = (
        select(link_model.incident_id, target.uuid, link_model.role)
        .join(target, target.id == target_id)
        .where(link_model.incident_id.in_(ids))
    )
    for incident_id, target_uuid, role in session.execute(statement):
        grouped[incident_id].append((target_uuid, role))
    for pairs in grouped.values():
        pairs.sort()
    return grouped


def _families(tactics: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    families = {taxonomy.family_of(tactic) for tactic in tactics}
    return [family for family in taxonomy.tactic_families.codes if family in families]
