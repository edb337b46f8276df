"""Incident search in SQL: filters, keyset pagination and facet counts, the same on SQLite and PostgreSQL.

Filters on multi-valued codes become `id IN (SELECT incident_id FROM link WHERE code IN (...))`, which both databases
answer from the (code, incident_id) indexes. Pagination is by keyset on (sort column, id), so a page boundary never
skips or repeats a row when incidents are added meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Integer,
    MetaData,
    Select,
    Table,
    case,
    distinct,
    extract,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.store.models import (
    Incident,
    IncidentLocation,
    IncidentOrigin,
    IncidentTactic,
    IncidentTarget,
    IncidentVulnerability,
)
from tnrwatch.store.types import UTCDateTime
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


_TEMPORARY = MetaData()
_MATCHING_TABLES = {
    kind: Table(
        f"tnrwatch_matching_{kind}",
        _TEMPORARY,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("sort_key", sort_type),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    for kind, sort_type in (("date", Date()), ("time", UTCDateTime()))
}


# The same on the map's columnar copy (store/analytics.py): DuckDB keeps no ON COMMIT DROP, and a key would only slow
# the filling; the table is dropped at the end like the others.
_COPY_MATCHING_TABLES = {
    kind: Table(
        f"tnrwatch_matching_{kind}",
        MetaData(),
        Column("id", Integer),
        Column("sort_key", sort_type),
        prefixes=["TEMPORARY"],
    )
    for kind, sort_type in (("date", Date()), ("time", UTCDateTime()))
}


class MatchingSet:
    """The incidents that match a filter, found once, then paged, counted and faceted.

    Without a filter, that is the incident table itself. With one, the matching ids (and their sort keys) go into a
    temporary table once per search, rather than the page, the count and every facet each re-running the filter:
    at 1,000,000 incidents that halves a faceted search (docs/benchmarks.md). Use as a context manager inside one
    session; the table lives in that connection only and is dropped at the end.
    """

    def __init__(self, session: Session, where: Sequence[ColumnElement[bool]], sort: str) -> None:
        self._session = session
        self._sort = sort
        self._column = SORT_COLUMNS[sort.lstrip("-")]
        self.table: Table | None = None
        self._where = list(where)
        copy = session.get_bind().dialect.name == "duckdb"  # the map's columnar copy (store/analytics.py)
        self._stored_families = copy
        if where:
            tables = _COPY_MATCHING_TABLES if copy else _MATCHING_TABLES
            self.table = tables["date" if sort.lstrip("-") == "date" else "time"]

    def __enter__(self) -> MatchingSet:
        if self.table is not None:
            connection = self._session.connection()
            self.table.create(connection)
            columns = ["id", "sort_key"]
            self._session.execute(
                insert(self.table).from_select(columns, select(Incident.id, self._column).where(*self._where))
            )
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        # After an error, PostgreSQL refuses every statement until rollback, which drops the table anyway.
        if self.table is not None and exc_type is None:
            self.table.drop(self._session.connection())

    def page(self, limit: int, after: Keyset | None) -> list[tuple[int, Any]]:
        """Row ids and sort values of one page: `limit` rows after the `after` keyset, in the sort order."""
        if self.table is None:
            return _keyset_page(self._session, Incident.id, self._column, (), self._sort, limit, after)
        table = self.table
        return _keyset_page(self._session, table.c.id, table.c.sort_key, (), self._sort, limit, after)

    def count(self) -> int:
        source = self.table if self.table is not None else Incident.__table__
        return self._session.scalar(select(func.count()).select_from(source)) or 0

    def facets(self, names: Sequence[str], taxonomy: Taxonomy) -> dict[str, list[tuple[str, int]]]:
        """Incident counts per value of each named facet. An incident counts once per value, however many
        locations or tactics give it that value."""
        results = {}
        for name in names:
            found = self._session.execute(self._facet(name, taxonomy))
            rows = [(str(value), int(n)) for value, n in found if value is not None and n]
            rows.sort(key=lambda pair: (-pair[1], pair[0]))
            results[name] = rows
        return results

    def _facet(self, name: str, taxonomy: Taxonomy) -> Any:
        if name == "tactic_family":
            return self._tactic_families(taxonomy)
        if name in _LINK_FACETS:
            model, column, may_repeat = _LINK_FACETS[name]
            value = getattr(model, column)
            counted = func.count(distinct(model.incident_id)) if may_repeat else func.count()
            return self._restricted(select(value, counted), model.incident_id).group_by(value)
        value = _COLUMN_FACETS[name]()
        return self._restricted(select(value, func.count()).select_from(Incident), Incident.id).group_by(value)

    def _tactic_families(self, taxonomy: Taxonomy) -> Any:
        """Families stay derived from the taxonomy rather than stored. Over a matching set, walk its tactics once and
        group them by family; over the whole table, count each family's range of the (tactic, incident_id) index,
        which avoids grouping every tactic row (1.1 s -> 0.5 s at a million incidents)."""
        if self.table is not None or self._stored_families:
            family = self._family(taxonomy)
            statement = select(family, func.count(distinct(IncidentTactic.incident_id))).group_by(family)
            return self._restricted(statement, IncidentTactic.incident_id)
        per_family = []
        for term in taxonomy.tactic_families:
            members = func.count(distinct(IncidentTactic.incident_id))
            tactics = taxonomy.tactics_of_family(term.code)
            per_family.append(select(literal(term.code), members).where(IncidentTactic.tactic.in_(tactics)))
        return union_all(*per_family)

    def flows(self) -> list[tuple[str, str, int]]:
        """(origin, host, incidents) for every origin -> host pair among the matching incidents, largest first. An
        incident counts once per pair, however many of its locations lie in the host country."""
        host = aliased(IncidentLocation)
        statement = (
            select(IncidentOrigin.country, host.country, func.count(distinct(IncidentOrigin.incident_id)))
            .join(host, host.incident_id == IncidentOrigin.incident_id)
            .group_by(IncidentOrigin.country, host.country)
        )
        rows = [
            (str(o), str(h), int(n))
            for o, h, n in self._session.execute(self._restricted(statement, IncidentOrigin.incident_id))
        ]
        return sorted(rows, key=lambda row: (-row[2], row[0], row[1]))

    def timeline(self, taxonomy: Taxonomy) -> list[tuple[int, int, str, int]]:
        """(year, month, tactic family, incidents) by the month of each matching incident's start: the timeline
        stacked by family. An incident counts once per family."""
        family = self._family(taxonomy)
        year, month = extract("year", Incident.date_start), extract("month", Incident.date_start)
        statement = (
            select(year, month, family, func.count(distinct(Incident.id)))
            .select_from(Incident)
            .join(IncidentTactic, IncidentTactic.incident_id == Incident.id)
            .group_by(year, month, family)
        )
        found = self._session.execute(self._restricted(statement, Incident.id))
        return sorted((int(y), int(m), str(f), int(n)) for y, m, f, n in found if f is not None)

    def _family(self, taxonomy: Taxonomy) -> Any:
        """Each tactic row's family: derived from the taxonomy here; the map's columnar copy stores it beside the
        tactic (a CASE over forty tactics on every row was a fifth of a map view there)."""
        if self._stored_families:
            return literal_column("incident_tactic.family")
        return case({term.code: term.family for term in taxonomy.tactics}, value=IncidentTactic.tactic)

    def _restricted(self, statement: Any, incident_id: Any) -> Any:
        if self.table is None:
            return statement
        # IN, not JOIN: SQLite may turn a join around and scan a million link rows to probe a small matching set;
        # with IN it walks the matching ids and probes each table's key.
        return statement.where(incident_id.in_(select(self.table.c.id)))


_LINK_FACETS: dict[str, tuple[Any, str, bool]] = {
    "origin": (IncidentOrigin, "country", False),
    "host": (IncidentLocation, "country", True),  # two locations in one country: one incident
    "tactic": (IncidentTactic, "tactic", False),
    "target_category": (IncidentTarget, "category", False),
    "vulnerability": (IncidentVulnerability, "flag", False),
}
_COLUMN_FACETS: dict[str, Callable[[], Any]] = {
    "verification": lambda: Incident.verification,
    "tlp": lambda: Incident.tlp,
    "host_state_role": lambda: Incident.host_state_role,
    "date_precision": lambda: Incident.date_precision,
    "year": lambda: extract("year", Incident.date_start),
}


def page_ids(
    session: Session, where: Sequence[ColumnElement[bool]], sort: str, limit: int, after: Keyset | None
) -> list[tuple[int, Any]]:
    """One page of the incidents matching `where`, without a temporary table: for callers that page through a
    filter once (exports), where filling a table first would not pay."""
    return _keyset_page(session, Incident.id, SORT_COLUMNS[sort.lstrip("-")], where, sort, limit, after)


def _keyset_page(
    session: Session,
    row_id: Any,  # a column of the incident table or of the matching set
    column: Any,
    where: Sequence[ColumnElement[bool]],
    sort: str,
    limit: int,
    after: Keyset | None,
) -> list[tuple[int, Any]]:
    descending = sort.startswith("-")
    statement: Select[Any] = select(row_id, column).where(*where)
    if after is not None:
        boundary = tuple_(column, row_id)
        position = tuple_(after.value, after.id)
        statement = statement.where(boundary < position if descending else boundary > position)
    order = (column.desc(), row_id.desc()) if descending else (column.asc(), row_id.asc())
    return [(found, value) for found, value in session.execute(statement.order_by(*order).limit(limit))]


def count(session: Session, where: Sequence[ColumnElement[bool]]) -> int:
    return session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
