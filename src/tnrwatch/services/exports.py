"""Export incidents that match a filter (the same filter as the API's search) as CSV, XLSX, JSON, GeoJSON, a STIX 2.1
bundle or MISP events.

Incidents are read a page at a time in date order by keyset, inside one read transaction, and handed to a streaming
writer: memory holds one page, whatever the size of the export. A STIX bundle is one JSON object whose objects refer
to each other, so it is assembled whole: at most `STIX_LIMIT` incidents, with their actors and the pseudonyms of their
persons (never an identity: interop/stix.py). MISP events (interop/misp.py) are assembled the same way: one per
incident, then one per published or withdrawn alert the reader reads that is about any of them; an event marked below
AMBER carries no free text (domain/sharing.py `mask_free_text`), since MISP exports go to partners.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select

from tnrwatch.domain import sharing
from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.domain.incident import IncidentOut
from tnrwatch.errors import FieldError, InvalidInputError, NotFoundError
from tnrwatch.interop import misp, stix
from tnrwatch.interop.writers import EXPORT_FORMATS, ExportInfo, open_writer
from tnrwatch.services import actors, alerts, persons
from tnrwatch.services.incidents import visible_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed, require
from tnrwatch.store import queries
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import Incident
from tnrwatch.store.types import utcnow

PAGE_SIZE = 1000
STIX_LIMIT = 20_000
FORMATS: tuple[str, ...] = (*EXPORT_FORMATS, "stix", "misp")
ExportProgress = Callable[[int, int], None]
"""Called after each page with (incidents written, incidents to write)."""


@dataclass(frozen=True)
class ExportResult:
    format: str
    count: int
    synthetic: bool


def export_incidents(
    node: Node,
    principal: Principal,
    flt: IncidentFilter,
    fmt: str,
    sink: BinaryIO,
    progress: ExportProgress | None = None,
) -> ExportResult:
    """Write the incidents matching `flt` to `sink` (left open) in format `fmt`."""
    require(principal, "incident:read")
    if fmt not in FORMATS:
        raise InvalidInputError("unknown export format", [FieldError(("format",), f"use one of: {', '.join(FORMATS)}")])
    if fmt == "stix":
        return _export_stix(node, principal, flt, sink, progress)
    if fmt == "misp":
        return _export_misp(node, principal, flt, sink, progress)
    with node.store.reading() as session:
        where = queries.conditions(flt, node.taxonomy, node.store.dialect) + visible_incidents(session, principal)
        total = queries.count(session, where)
        any_synthetic = select(Incident.id).where(*where, Incident.synthetic.is_(True)).limit(1)
        info = ExportInfo(
            taxonomy_version=node.taxonomy.version,
            synthetic=session.scalar(any_synthetic) is not None,
            count=total,
            exported_at=utcnow(),
            filters=flt.model_dump(mode="json", exclude_defaults=True),
        )
        try:
            writer = open_writer(fmt, sink, info)
        except ValueError as exc:
            raise InvalidInputError("the export cannot be written", [FieldError(("format",), str(exc))]) from None
        written = 0
        after: queries.Keyset | None = None
        while rows := queries.page_ids(session, where, "date", PAGE_SIZE, after):
            incidents = load_incidents(session, [row_id for row_id, _ in rows], node.taxonomy)
            writer.write(incidents)
            written += len(incidents)
            if progress is not None:
                progress(written, total)
            last_id, last_value = rows[-1]
            after = queries.Keyset(sort="date", value=last_value, id=last_id)
        writer.close()
    return ExportResult(format=fmt, count=written, synthetic=info.synthetic)


def _export_stix(
    node: Node, principal: Principal, flt: IncidentFilter, sink: BinaryIO, progress: ExportProgress | None
) -> ExportResult:
    found = _matching(node, principal, flt, progress, "one STIX bundle")
    linked_actors = sorted({link.id for incident in found for link in incident.actors})
    linked_persons = sorted({link.id for incident in found for link in incident.persons})
    # What the reader may not read (actors, persons) stays out of the bundle, with the links to it.
    readers = allowed(principal, "actor:read")
    actor_list = [actors.get_actor(node, principal, actor_id) for actor_id in linked_actors] if readers else []
    person_list = []
    for person_id in linked_persons if allowed(principal, "person:read") else []:
        try:  # the pseudonym only: with_identity is never asked for here
            person_list.append(persons.get_person(node, principal, person_id))
        except NotFoundError:
            continue  # a person another focal point recorded: the link is left out below
    readable = {person.id for person in person_list}
    found = [
        incident.model_copy(update={"persons": [link for link in incident.persons if link.id in readable]})
        for incident in found
    ]
    bundle = stix.bundle_of(
        found, actor_list, persons=person_list, node_name=node.settings.node_name, taxonomy=node.taxonomy
    )
    sink.write(bundle.serialize().encode("utf-8"))
    return ExportResult(format="stix", count=len(found), synthetic=any(incident.synthetic for incident in found))


def _matching(
    node: Node, principal: Principal, flt: IncidentFilter, progress: ExportProgress | None, what: str
) -> list[IncidentOut]:
    """Every incident matching `flt` that `principal` reads, in date order; at most `STIX_LIMIT` (the export is
    assembled whole)."""
    found: list[IncidentOut] = []
    with node.store.reading() as session:
        where = queries.conditions(flt, node.taxonomy, node.store.dialect) + visible_incidents(session, principal)
        total = queries.count(session, where)
        if total > STIX_LIMIT:
            raise InvalidInputError(
                f"too many incidents for {what}",
                [FieldError(("filter",), f"{total:,} incidents match; narrow the filter to {STIX_LIMIT:,} or fewer")],
            )
        after: queries.Keyset | None = None
        while rows := queries.page_ids(session, where, "date", PAGE_SIZE, after):
            found += load_incidents(session, [row_id for row_id, _ in rows], node.taxonomy)
            if progress is not None:
                progress(len(found), total)
            last_id, last_value = rows[-1]
            after = queries.Keyset(sort="date", value=last_value, id=last_id)
    return found


def _export_misp(
    node: Node, principal: Principal, flt: IncidentFilter, sink: BinaryIO, progress: ExportProgress | None
) -> ExportResult:
    """The matching incidents, then the alerts about them, as MISP events; never a person, not even a pseudonym."""
    found = _matching(node, principal, flt, progress, "one MISP export")
    readers = allowed(principal, "actor:read")
    linked = sorted({link.id for incident in found for link in incident.actors})
    by_incident = {incident.id: incident for incident in found}
    about: list[AlertOut] = []
    if allowed(principal, "alert:read"):
        about = [
            alert
            for alert in alerts.list_alerts(node, principal, limit=STIX_LIMIT)
            if alert.published_at is not None and any(incident_id in by_incident for incident_id in alert.incident_ids)
        ]
    linked += sorted({actor_id for alert in about for actor_id in alert.actor_ids} - set(linked))
    actor_by_id = {actor_id: actors.get_actor(node, principal, actor_id) for actor_id in linked} if readers else {}
    events = [
        misp.incident_event(
            incident,
            [actor_by_id[link.id] for link in incident.actors if link.id in actor_by_id],
            mask_free_text=sharing.mask_free_text(incident.tlp),
        )
        for incident in found
    ]
    for alert in sorted(about, key=lambda alert: (alert.created_at, str(alert.id))):
        alert_incidents = [by_incident[incident_id] for incident_id in alert.incident_ids if incident_id in by_incident]
        events.append(
            misp.alert_event(
                alert, alert_incidents, list(actor_by_id.values()), mask_free_text=sharing.mask_free_text(alert.tlp)
            )
        )
    sink.write(json.dumps(misp.events_document(events), ensure_ascii=False).encode("utf-8"))
    return ExportResult(format="misp", count=len(found), synthetic=any(incident.synthetic for incident in found))
