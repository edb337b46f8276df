"""One search, said three ways: as tnrwatch's API query, as SQL for DuckDB, and as requests to Datasette.

The question is always the same: the first page of matching incidents (sorted by date, newest first, ties by id) with
everything tnrwatch returns for them, plus facet counts over all matching incidents, where an incident counts once per
value however many locations or tactics give it that value (tnrwatch's facet contract). The SQL here has the same
meaning as tnrwatch's (`store/queries.py`): multi-valued filters are `id IN (SELECT incident_id FROM link ...)`,
`date_from` compares with `date_end`, tactic families are a CASE over tactics from the taxonomy.

Datasette's facet API counts rows of one table, one column each (`/db/table.json?_facet=col`); it gives tnrwatch's
answer where each (incident, value) pair is one row: the incident's own columns (verification, tlp, ...) and the link
tables keyed by (incident_id, code) (tactic, origin, target category, vulnerability). A host country can repeat
within an incident's locations and a family within its tactics, and a year is an expression, so those facets, the
page and the page's rows go through Datasette's `?sql=` API (it has no facets on SQL queries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from tnrwatch.taxonomy import Taxonomy


@dataclass(frozen=True)
class QueryShape:
    """A search as tnrwatch's API takes it: filters (query parameters), facets and the page size."""

    name: str
    filters: Mapping[str, str]
    facets: tuple[str, ...]
    limit: int = 50
    description: str = ""

    def api_path(self) -> str:
        params = {**self.filters, "facets": ",".join(self.facets), "limit": str(self.limit)}
        return "/api/v1/incidents?" + urlencode(params, safe=",")


SHAPES: dict[str, QueryShape] = {
    shape.name: shape
    for shape in (
        QueryShape(
            "two-filters",
            {"origin": "CN", "date_from": "2020-01-01"},
            ("host", "tactic_family", "verification"),
            description="the issue's query: two filters, three facets",
        ),
        QueryShape(
            "no-filter",
            {},
            ("host", "tactic_family", "verification"),
            description="the same facets over the whole table",
        ),
        QueryShape(
            "selective",
            {"origin": "TJ", "tactic_family": "legal"},
            ("host", "tactic", "year"),
            description="a selective search",
        ),
    )
}

# facet -> (table, value expression, whether an incident can have the value twice in that table)
LINK_FACETS: dict[str, tuple[str, str, bool]] = {
    "origin": ("incident_origin", "country", False),
    "host": ("incident_location", "country", True),
    "tactic": ("incident_tactic", "tactic", False),
    "target_category": ("incident_target", "category", False),
    "vulnerability": ("incident_vulnerability", "flag", False),
}
COLUMN_FACETS = ("verification", "tlp", "host_state_role", "date_precision")
# Portable between SQLite and DuckDB (DuckDB reads the column as DATE, SQLite holds ISO text).
YEAR = "CAST(substr(CAST(date_start AS VARCHAR), 1, 4) AS INTEGER)"
ORDER = "ORDER BY date_start DESC, id DESC"

# The page's rows, table by table, as tnrwatch loads them (`store/incidents.load_incidents`); the first columns are
# what the answers are compared on. `{ids}` is the page's ids.
_CODE_TABLES = {
    "origin": ("incident_origin", "country"),
    "tactic": ("incident_tactic", "tactic"),
    "target": ("incident_target", "category"),
    "vulnerability": ("incident_vulnerability", "flag"),
}


def _children(incident_columns: Sequence[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (FROM ... WHERE ..., select list), for the rows of the page's incidents."""
    children: dict[str, tuple[str, tuple[str, ...]]] = {
        "incident": (
            "FROM incident i LEFT JOIN account a ON a.id = i.coded_by_id WHERE i.id IN ({ids})",
            ("i.id", "i.uuid", "i.date_start", *(f"i.{c}" for c in incident_columns), "a.username"),
        ),
        "location": (
            "FROM incident_location WHERE incident_id IN ({ids})",
            (
                "incident_id",
                "position",
                "country",
                "geo_precision",
                "admin1",
                "place",
                "lat",
                "lon",
                "obfuscated",
            ),
        ),
        "source": (
            "FROM source WHERE incident_id IN ({ids})",
            ("incident_id", "position", "title", "url", "publisher", "published_on", "reliability", "credibility"),
        ),
        "actor": (
            "FROM incident_actor l JOIN actor t ON t.id = l.actor_id WHERE l.incident_id IN ({ids})",
            ("l.incident_id", "t.uuid", "l.role"),
        ),
        "person": (
            "FROM incident_person l JOIN person t ON t.id = l.person_id WHERE l.incident_id IN ({ids})",
            ("l.incident_id", "t.uuid", "l.role"),
        ),
    }
    for name, (table, column) in _CODE_TABLES.items():
        children[name] = (f"FROM {table} WHERE incident_id IN ({{ids}})", ("incident_id", column))
    return children


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(values: Sequence[str]) -> str:
    return ", ".join(quote(value) for value in values)


@dataclass(frozen=True)
class PeerSql:
    """The SQL of one shape: the WHERE conditions on `incident`, the page, each facet, the page's rows."""

    shape: QueryShape
    conditions: tuple[str, ...]
    link_conditions: tuple[str, ...]  # the conditions that read link tables (Datasette's `_where=`)
    facets: dict[str, str]
    children: dict[str, tuple[str, tuple[str, ...]]] = field(repr=False)

    @property
    def where(self) -> str:
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""

    @property
    def page(self) -> str:
        return f"SELECT id FROM incident{self.where} {ORDER} LIMIT {self.shape.limit}"

    def children_sql(self) -> dict[str, str]:
        """For DuckDB: one query per table, as tnrwatch runs them."""
        return {name: f"SELECT {', '.join(columns)} {rest}" for name, (rest, columns) in self.children.items()}

    def children_union(self) -> str:
        """For Datasette: the same rows in one `?sql=` request (kind, JSON array of the same columns), sparing it
        eight HTTP round trips that tnrwatch does not pay."""
        parts = [
            f"SELECT {quote(name)} AS kind, json_array({', '.join(columns)}) AS data {rest}"
            for name, (rest, columns) in self.children.items()
        ]
        return " UNION ALL ".join(parts)

    def plan(self) -> dict[str, object]:
        """What the DuckDB worker runs (`bench/duckdb_worker.py`)."""
        return {"page": self.page, "children": self.children_sql(), "facets": self.facets}


def peer_sql(shape: QueryShape, taxonomy: Taxonomy, incident_columns: Sequence[str]) -> PeerSql:
    conditions: list[str] = []
    link_conditions: list[str] = []
    filters = dict(shape.filters)
    for name, (table, column) in {
        "origin": ("incident_origin", "country"),
        "host": ("incident_location", "country"),
        "tactic": ("incident_tactic", "tactic"),
    }.items():
        if name in filters:
            values = filters.pop(name).split(",")
            link_conditions.append(f"id IN (SELECT incident_id FROM {table} WHERE {column} IN ({_in_list(values)}))")
    if "tactic_family" in filters:
        tactics = [t for family in filters.pop("tactic_family").split(",") for t in taxonomy.tactics_of_family(family)]
        link_conditions.append(f"id IN (SELECT incident_id FROM incident_tactic WHERE tactic IN ({_in_list(tactics)}))")
    conditions += link_conditions
    if "date_from" in filters:
        conditions.append(f"date_end >= {quote(filters.pop('date_from'))}")
    if "date_to" in filters:
        conditions.append(f"date_start <= {quote(filters.pop('date_to'))}")
    if filters:
        raise ValueError(f"the benchmark cannot say these filters in SQL yet: {sorted(filters)}")
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    matching = f"incident_id IN (SELECT id FROM incident{where})" if conditions else ""
    facets = {name: _facet_sql(name, where, matching, taxonomy) for name in shape.facets}
    return PeerSql(shape, tuple(conditions), tuple(link_conditions), facets, _children(incident_columns))


def _facet_sql(name: str, where: str, matching: str, taxonomy: Taxonomy) -> str:
    link_where = f" WHERE {matching}" if matching else ""
    if name == "tactic_family":
        cases = " ".join(f"WHEN {quote(term.code)} THEN {quote(term.family or '')}" for term in taxonomy.tactics)
        return (
            f"SELECT CASE tactic {cases} END AS value, count(DISTINCT incident_id) AS count "
            f"FROM incident_tactic{link_where} GROUP BY 1"
        )
    if name in LINK_FACETS:
        table, column, may_repeat = LINK_FACETS[name]
        counted = "count(DISTINCT incident_id)" if may_repeat else "count(*)"
        return f"SELECT {column} AS value, {counted} AS count FROM {table}{link_where} GROUP BY 1"
    if name in COLUMN_FACETS:
        return f"SELECT {name} AS value, count(*) AS count FROM incident{where} GROUP BY 1"
    if name == "year":
        return f"SELECT {YEAR} AS value, count(*) AS count FROM incident{where} GROUP BY 1"
    raise ValueError(f"unknown facet {name!r}")


@dataclass(frozen=True)
class DatasetteRequest:
    """One GET to Datasette, and what it answers for: 'facets' (table facet API), 'facet:NAME' (`?sql=` GROUP BY),
    'page' or 'rows' (`?sql=`)."""

    purpose: str
    path: str
    facet_columns: Mapping[str, str] = field(default_factory=dict)  # for 'facets': column -> facet name


def datasette_requests(sql: PeerSql, database: str) -> tuple[list[DatasetteRequest], str]:
    """The requests that answer the shape without the page's rows, and the `?sql=` for the rows (it needs the ids
    the page request returns: `{ids}`)."""
    requests: list[DatasetteRequest] = []
    by_table: dict[str, dict[str, str]] = {}
    for name in sql.shape.facets:
        if name in COLUMN_FACETS:
            by_table.setdefault("incident", {})[name] = name
        elif name in LINK_FACETS and not LINK_FACETS[name][2]:
            table, column, _ = LINK_FACETS[name]
            by_table.setdefault(table, {})[column] = name
    for table, columns in by_table.items():
        params: list[tuple[str, str]] = [("_facet", column) for column in columns]
        if table == "incident":
            params += [("_where", condition) for condition in sql.link_conditions]
            if "date_from" in sql.shape.filters:
                params.append(("date_end__gte", sql.shape.filters["date_from"]))
            if "date_to" in sql.shape.filters:
                params.append(("date_start__lte", sql.shape.filters["date_to"]))
        elif sql.conditions:
            params.append(("_where", f"incident_id IN (SELECT id FROM incident{sql.where})"))
        params += [("_size", "0"), ("_nocount", "1")]
        requests.append(DatasetteRequest("facets", f"/{database}/{table}.json?{urlencode(params)}", columns))
    for name in sql.shape.facets:
        handled = name in COLUMN_FACETS or (name in LINK_FACETS and not LINK_FACETS[name][2])
        if not handled:
            requests.append(DatasetteRequest(f"facet:{name}", _sql_path(database, sql.facets[name])))
    requests.append(DatasetteRequest("page", _sql_path(database, sql.page)))
    return requests, sql.children_union()


def _sql_path(database: str, query: str) -> str:
    return f"/{database}.json?" + urlencode({"sql": query, "_shape": "array"})


def datasette_rows_path(database: str, union: str, ids: Sequence[int]) -> str:
    return _sql_path(database, union.format(ids=", ".join(str(int(i)) for i in ids) or "NULL"))
