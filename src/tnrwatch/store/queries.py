"""Incident search in SQL: filters, keyset pagination and facet counts, the same on SQLite and PostgreSQL.

Filters on multi-valued codes become `id IN (SELECT incident_id FROM link WHERE code IN (...))`, which both databases
answer from the (code, incident_id) indexes. Pagination is by keyset on (sort column, id), so a page boundary never
skips or repeats a row when incidents are added meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, extract, func, literal_column, or_, select, text, tuple_
from sqlalchemy.orm import Session

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.store.models import (
    Incident,
    IncidentLocation,
    IncidentOrigin,
    IncidentTactic,
    IncidentTarget,
    IncidentVulnerability,
)
from tnrwatch.taxonomy import Taxonomy

_WORD = re.compile(r"\w+", re.UNICODE)

SORT_COLUMNS: dict[str, Any] = {
    "date": Incident.date_start,
    "created": Incident.created_at,
    "updated": Incident.updated_at,
}


def _in_link(model: Any, column: str, values: Sequence[str]) -> ColumnElement[bool]:
    return Incident.id.in_(select(model.incident_id).where(getattr(model, column).in_(values)))


def conditions(flt: IncidentFilter, taxonomy: Taxonomy, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.origin:
        where.append(_in_link(IncidentOrigin, "country", flt.origin))
    if flt.host:
        where.append(_in_link(IncidentLocation, "country", flt.host))
    tactics = set(flt.tactic)
    if flt.tactic:
        where.append(_in_link(IncidentTactic, "tactic", sorted(tactics)))
    if flt.tactic_family:
        family_tactics = [t for family in flt.tactic_family for t in taxonomy.tactics_of_family(family)]
        where.append(_in_link(IncidentTactic, "tactic", family_tactics))
    if flt.target_category:
        where.append(_in_link(IncidentTarget, "category", flt.target_category))
    if flt.vulnerability:
        where.append(_in_link(IncidentVulnerability, "flag", flt.vulnerability))
    for column, values in (
        (Incident.verification, flt.verification),
        (Incident.tlp, flt.tlp),
        (Incident.host_state_role, flt.host_state_role),
    ):
        if values:
            where.append(column.in_(values))
    if flt.date_from:
        where.append(Incident.date_end >= flt.date_from)
    if flt.date_to:
        where.append(Incident.date_start <= flt.date_to)
    if flt.synthetic is not None:
        where.append(Incident.synthetic.is_(flt.synthetic))
    if flt.q:
        where.append(_full_text(flt.q, dialect))
    if flt.bbox:
        box = flt.bbox
        longitude = (
            IncidentLocation.lon.between(box.west, box.east)
            if box.west <= box.east
            else or_(IncidentLocation.lon >= box.west, IncidentLocation.lon <= box.east)
        )
        # Obfuscated locations never match a box: their true coordinates must not be narrowed down by search.
        inside = select(IncidentLocation.incident_id).where(
            IncidentLocation.lat.between(box.south, box.north),
            longitude,
            IncidentLocation.obfuscated.is_(False),
        )
        where.append(Incident.id.in_(inside))
    return where


def _full_text(q: str, dialect: str) -> ColumnElement[bool]:
    words = _WORD.findall(q)
    if not words:
        return Incident.id.is_(None)  # nothing searchable: nothing matches
    if dialect == "postgresql":
        vector: ColumnElement[Any] = literal_column("incident.search_vector")
        return vector.bool_op("@@")(func.plainto_tsquery("simple", " ".join(words)))
    # FTS5: each word quoted, so user input is never read as query syntax; juxtaposed terms must all match.
    match = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    matching = select(text("rowid")).select_from(text("incident_fts")).where(text("incident_fts MATCH :q"))
    return Incident.id.in_(matching.params(q=match))


@dataclass(frozen=True)
class Keyset:
    sort: str
    value: Any
    id: int


def page_ids(
    session: Session, where: Sequence[ColumnElement[bool]], sort: str, limit: int, after: Keyset | None
) -> list[tuple[int, Any]]:
    """The row ids (and sort values) of one page: `limit` rows after the `after` keyset, in `sort` order."""
    column = SORT_COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    statement: Select[Any] = select(Incident.id, column).where(*where)
    if after is not None:
        boundary = tuple_(column, Incident.id)
        position = tuple_(after.value, after.id)
        statement = statement.where(boundary < position if descending else boundary > position)
    order = (column.desc(), Incident.id.desc()) if descending else (column.asc(), Incident.id.asc())
    return [(row_id, value) for row_id, value in session.execute(statement.order_by(*order).limit(limit))]


def count(session: Session, where: Sequence[ColumnElement[bool]]) -> int:
    return session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0


def facet_counts(
    session: Session, where: Sequence[ColumnElement[bool]], names: Sequence[str], taxonomy: Taxonomy
) -> dict[str, list[tuple[str, int]]]:
    """Incident counts per value of each named facet, over the incidents that match `where`. An incident counts once
    per value, however many locations or tactics give it that value."""
    matching = select(Incident.id).where(*where) if where else None
    results = {}
    for name in names:
        statement = _facet_statement(name, matching, taxonomy)
        rows = [(str(value), int(n)) for value, n in session.execute(statement) if value is not None]
        rows.sort(key=lambda pair: (-pair[1], pair[0]))
        results[name] = rows
    return results


def _facet_statement(name: str, matching: Select[Any] | None, taxonomy: Taxonomy) -> Select[Any]:
    link_facets: dict[str, tuple[Any, Any, bool]] = {
        "origin": (IncidentOrigin, IncidentOrigin.country, False),
        "host": (IncidentLocation, IncidentLocation.country, True),
        "tactic": (IncidentTactic, IncidentTactic.tactic, False),
        "target_category": (IncidentTarget, IncidentTarget.category, False),
        "vulnerability": (IncidentVulnerability, IncidentVulnerability.flag, False),
    }
    if name == "tactic_family":
        families = {term.code: term.family for term in taxonomy.tactics}
        link_facets[name] = (IncidentTactic, case(families, value=IncidentTactic.tactic), True)
    if name in link_facets:
        model, value, may_repeat = link_facets[name]
        counted = func.count(distinct(model.incident_id)) if may_repeat else func.count()
        statement = select(value, counted)
        if matching is not None:
            statement = statement.where(model.incident_id.in_(matching))
        return statement.group_by(value)
    column_facets: dict[str, Any] = {
        "verification": Incident.verification,
        "tlp": Incident.tlp,
        "host_state_role": Incident.host_state_role,
        "date_precision": Incident.date_precision,
        "year": extract("year", Incident.date_start),
    }
    value = column_facets[name]
    statement = select(value, func.count())
    if matching is not None:
        statement = statement.where(Incident.id.in_(matching))
    return statement.group_by(value)
