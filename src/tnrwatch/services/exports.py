"""Export incidents that match a filter (the same filter as the API's search) as CSV, XLSX, JSON or GeoJSON.

Incidents are read a page at a time in date order by keyset, inside one read transaction, and handed to a streaming
writer: memory holds one page, whatever the size of the export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.writers import EXPORT_FORMATS, ExportInfo, open_writer
from tnrwatch.services.incidents import visible_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store import queries
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import Incident
from tnrwatch.store.types import utcnow

PAGE_SIZE = 1000
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
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(
            "unknown export format", [FieldError(("format",), f"use one of: {', '.join(EXPORT_FORMATS)}")]
        )
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
