"""Where a search's time goes, statement by statement, and what a different statement plan would gain.

1. Runs the search in-process through `services.incidents.search_incidents` (no HTTP), records every SQL statement it
   sends (SQLAlchemy's cursor events), and its total time.
2. Runs each recorded statement again on a plain sqlite3 connection with the store's pragmas, timed from execute to
   the last row fetched, with its query plan. What the statements do not explain is Python (SQLAlchemy, pydantic).
3. With `--experiments`, on a copy of the database (never the cached one): the same searches with the statement
   plan suggested in docs/benchmarks.md (the matching incidents computed once into a temporary table, the page and
   every facet read from it), with and without `PRAGMA mmap_size`, checked to give the same page and counts.

    python bench/query_profile.py --incidents 1000000 [--experiments]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from common import OUT, markdown_table
from dataset import DemoDatabase, demo_database
from peer_sql import COLUMN_FACETS, SHAPES, YEAR, PeerSql, QueryShape, peer_sql
from query_bench import incident_columns
from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.domain.validation import validate
from tnrwatch.services import incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.taxonomy import default_taxonomy

STORE_PRAGMAS = (  # as store/db.py sets them on every connection (mmap_size and temp_store: see `connect`)
    "journal_mode = WAL",
    "foreign_keys = ON",
    "synchronous = NORMAL",
    "busy_timeout = 30000",
    "cache_size = -65536",
)
MMAP_BYTES = 4 * 1024**3


def incident_query(shape: QueryShape, node: Node) -> incidents.IncidentQuery:
    raw: dict[str, Any] = {
        name: value if name.startswith("date_") else value.split(",") for name, value in shape.filters.items()
    }
    flt = validate(IncidentFilter, raw, node.taxonomy, what="filter")
    return incidents.IncidentQuery(filter=flt, facets=shape.facets, limit=shape.limit)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@dataclass(frozen=True)
class Statement:
    label: str
    sql: str
    params: tuple[Any, ...]


def record_search(node: Node, query: incidents.IncidentQuery, runs: int) -> tuple[float, list[Statement]]:
    """The search's median in-process time, and the statements it sends (labelled page, rows:TABLE, facet:NAME)."""
    sent: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    search = lambda: incidents.search_incidents(node, Principal.operator(), query)  # noqa: E731
    search()  # warm
    seconds = median_seconds(search, runs)
    event.listen(node.store.engine, "before_cursor_execute", before)
    try:
        search()
    finally:
        event.remove(node.store.engine, "before_cursor_execute", before)
    statements = []
    facets = iter(query.facets)
    for sql, params in sent:
        flat = " ".join(sql.split())
        if flat in ("BEGIN", "COMMIT", "ROLLBACK"):
            continue
        if flat.startswith("CREATE TEMPORARY TABLE"):
            label = "matching set: create"
        elif flat.startswith("INSERT INTO tnrwatch_matching"):
            label = "matching set: fill"
        elif flat.startswith("DROP TABLE"):
            label = "matching set: drop"
        elif "count(" in flat:
            label = f"facet {next(facets)}"
        elif " ORDER BY " in flat and " LIMIT " in flat:
            label = "page (ids)"
        else:
            label = "page rows: " + flat.split(" FROM ", 1)[1].split()[0]
        statements.append(Statement(label, flat, tuple(params or ())))
    return seconds, statements


STORE_MMAP_BYTES = 1024**3  # store/db.py's mmap_size; it leaves temp_store at its default


def connect(path: Path, mmap_bytes: int = STORE_MMAP_BYTES, temp_store: str = "DEFAULT") -> sqlite3.Connection:
    """A connection with the store's pragmas (`temp_store` and `mmap_size` varied by the experiments)."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in (*STORE_PRAGMAS, f"temp_store = {temp_store}", f"mmap_size = {mmap_bytes}"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def time_in_turn(
    connection: sqlite3.Connection, statements: Sequence[Statement], runs: int
) -> tuple[dict[str, float], dict[str, list[Any]]]:
    """Each statement's median time (execute to last row) over `runs` passes through the whole sequence, after one
    untimed pass; and the rows of the last pass. Statements run in turn, as in a search, never one repeated alone:
    on a connection with temp_store=MEMORY a GROUP BY repeated by itself gets slower run after run (547, 1,214,
    1,676 ms ... for the whole-table verification facet), which a search never does."""
    times: dict[str, list[float]] = {statement.label: [] for statement in statements}
    rows: dict[str, list[Any]] = {}
    for attempt in range(runs + 1):
        for statement in statements:
            started = time.perf_counter()
            rows[statement.label] = connection.execute(statement.sql, statement.params).fetchall()
            if attempt:
                times[statement.label].append(time.perf_counter() - started)
    return {label: statistics.median(values) for label, values in times.items()}, rows


def plan(connection: sqlite3.Connection, statement: Statement) -> str:
    steps = connection.execute("EXPLAIN QUERY PLAN " + statement.sql, statement.params).fetchall()
    return "; ".join(step[3] for step in steps)


def breakdown(database: DemoDatabase, shapes: Sequence[str], runs: int) -> str:
    settings = Settings(home=database.home, sqlite_synchronous="NORMAL", log_level="warning")
    node = Node.open(settings)
    connection = connect(database.sqlite_path)
    parts = []
    try:
        for name in shapes:
            shape = SHAPES[name]
            total, statements = record_search(node, incident_query(shape, node), runs)
            rows = []
            sql_total = 0.0
            load_total = 0.0
            timings, _ = time_in_turn(connection, statements, runs)
            # Plans of statements that read the matching set need it back: replay its creation around them.
            setup = [st for st in statements if st.label in ("matching set: create", "matching set: fill")]
            for statement in setup:
                connection.execute(statement.sql, statement.params)
            plans = {st.label: plan(connection, st) for st in statements if not st.label.startswith("matching set")}
            for statement in statements:
                if statement.label == "matching set: drop":
                    connection.execute(statement.sql, statement.params)
                seconds = timings[statement.label]
                sql_total += seconds
                if statement.label.startswith("page rows"):
                    load_total += seconds
                    continue
                rows.append([statement.label, f"{seconds * 1000:,.1f}", f"`{plans.get(statement.label, '')}`"])
            rows.append(["page rows (one statement per table, 50 incidents)", f"{load_total * 1000:,.1f}", ""])
            rows.append(["Python (search total minus SQL)", f"{(total - sql_total) * 1000:,.1f}", ""])
            rows.append(["**search, in-process**", f"**{total * 1000:,.1f}**", ""])
            parts.append(
                f"**{shape.name}** (`{shape.api_path()}`), median of {runs}\n\n"
                + markdown_table(["statement", "ms", "SQLite's plan"], rows)
            )
    finally:
        connection.close()
        node.close()
    return "\n\n".join(parts)


def proposed_statements(sql: PeerSql) -> list[Statement]:
    """The suggested plan: the matching ids (and sort key) once into a temporary table, then the page and every
    facet from it. Without filters the matching set is the whole table: the statements read it directly."""
    if not sql.conditions:
        statements = [Statement("page (ids)", f"SELECT id, date_start FROM incident ORDER BY date_start DESC, id DESC "
                                f"LIMIT {sql.shape.limit + 1}", ())]  # fmt: skip
        statements += [Statement(f"facet {name}", facet, ()) for name, facet in sql.facets.items()]
        return statements
    matching = "incident_id IN (SELECT id FROM temp.matching)"
    statements = [
        Statement("drop", "DROP TABLE IF EXISTS temp.matching", ()),
        Statement("create", "CREATE TEMP TABLE matching (id INTEGER PRIMARY KEY, date_start)", ()),
        Statement("matching set", f"INSERT INTO temp.matching SELECT id, date_start FROM incident{sql.where}", ()),
        Statement(
            "page (ids)",
            f"SELECT id, date_start FROM temp.matching ORDER BY date_start DESC, id DESC LIMIT {sql.shape.limit + 1}",
            (),
        ),
    ]
    for name, facet in sql.facets.items():
        if name in COLUMN_FACETS or name == "year":
            value = YEAR if name == "year" else name
            text = (
                f"SELECT {value} AS value, count(*) AS count FROM incident "
                "WHERE id IN (SELECT id FROM temp.matching) GROUP BY 1"
            )
        else:
            original = f"incident_id IN (SELECT id FROM incident{sql.where})"
            text = facet.replace(original, matching)
        statements.append(Statement(f"facet {name}", text, ()))
    return statements


def _answer(results: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The page (ids and dates, in order) and each facet's counts, to compare two plans."""
    answer: dict[str, list[tuple[Any, ...]]] = {"page": [(int(row[0]), str(row[1])) for row in results["page (ids)"]]}
    for label, rows in results.items():
        if label.startswith("facet"):
            answer[label] = sorted((str(value), int(count)) for value, count in rows if value is not None)
    return answer


# (statement plan, temp_store, mmap_size): the store as shipped first (its statements, its pragmas), then one change
# at a time. "suggested" is the hand-written plan these experiments proposed before the store adopted it.
VARIANTS = (
    ("current", "DEFAULT", STORE_MMAP_BYTES),
    ("current", "DEFAULT", 0),
    ("current", "MEMORY", STORE_MMAP_BYTES),
    ("suggested", "DEFAULT", STORE_MMAP_BYTES),
    ("suggested", "DEFAULT", MMAP_BYTES),
)


def experiments(database: DemoDatabase, shapes: Sequence[str], runs: int) -> str:
    """The statements tnrwatch sends vs the suggested plan, under store settings varied one at a time, on a copy of
    the database; every variant must give the same page and counts."""
    copy = experiment_copy(database)
    settings = Settings(home=database.home, sqlite_synchronous="NORMAL", log_level="warning")
    node = Node.open(settings)
    columns = incident_columns(copy)
    rows = []
    try:
        for name in shapes:
            shape = SHAPES[name]
            _, current = record_search(node, incident_query(shape, node), 1)
            page_rows = [statement for statement in current if statement.label.startswith("page rows")]
            plans = {"current": current, "suggested": proposed_statements(peer_sql(shape, node.taxonomy, columns))}
            plans["suggested"] += page_rows
            baseline = None
            reference = None
            for plan_name, temp_store, mmap_bytes in VARIANTS:
                connection = connect(copy, mmap_bytes, temp_store)
                try:
                    timings, results = time_in_turn(connection, plans[plan_name], runs)
                finally:
                    connection.close()
                answer = _answer(results)
                reference = reference or answer
                if answer != reference:
                    raise AssertionError(f"{name}: {plan_name} statements answer differently")
                total = sum(timings.values())
                baseline = baseline or total
                mmap_label = f"{mmap_bytes // 1024**3} GiB" if mmap_bytes else "0"
                rows.append(
                    [shape.name, plan_name, temp_store, mmap_label, f"{total * 1000:,.0f}", f"{baseline / total:.1f}x"]
                )
    finally:
        node.close()
    table = markdown_table(["query", "statements", "temp_store", "mmap_size", "SQL ms", "gain"], rows)
    return f"SQL only (all statements of one search, median of {runs}), on a copy of the database:\n\n{table}"


def experiment_copy(database: DemoDatabase) -> Path:
    copy = OUT / "experiments" / f"copy-{database.incidents}.sqlite3"
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        print(f"copying the database to {copy} for experiments", file=sys.stderr)
        shutil.copyfile(database.sqlite_path, copy)
    return copy


def _counts(rows: Sequence[tuple[Any, Any]]) -> list[tuple[str, int]]:
    return sorted((str(value), int(count)) for value, count in rows if value is not None and count)


def whole_table_experiments(database: DemoDatabase, runs: int) -> str:
    """Facets over the whole table: the statements tnrwatch sends for tactic_family and verification, next to a
    per-family count (one index range per family), a GROUP BY on the tactic index (the cost of a stored family),
    and the verification GROUP BY with an index on `verification` (created on the copy, timed, dropped)."""
    copy = experiment_copy(database)
    taxonomy = default_taxonomy()
    sql = peer_sql(SHAPES["no-filter"], taxonomy, incident_columns(copy))
    families: dict[str, list[str]] = {}
    for term in taxonomy.tactics:
        families.setdefault(term.family or "", []).append(term.code)
    per_family = " UNION ALL ".join(
        f"SELECT '{family}', count(DISTINCT incident_id) FROM incident_tactic "
        f"WHERE tactic IN ({', '.join(repr(code) for code in codes)})"
        for family, codes in families.items()
    )
    candidates = [
        Statement("tactic_family: CASE over tactics, count(DISTINCT) (before)", sql.facets["tactic_family"], ()),
        Statement("tactic_family: one count(DISTINCT) per family, UNION ALL", per_family, ()),
        Statement("tactic: GROUP BY on the (tactic, incident_id) index (what a stored family link would cost)",
                  "SELECT tactic, count(*) FROM incident_tactic GROUP BY 1", ()),
        Statement("verification: GROUP BY over the incident table, no index (before)", sql.facets["verification"], ()),
    ]  # fmt: skip
    indexed = Statement(
        "verification: the same GROUP BY with an index on incident(verification)", sql.facets["verification"], ()
    )
    connection = connect(copy)
    try:
        timings, results = time_in_turn(connection, candidates, runs)
        connection.execute("CREATE INDEX ix_experiment_verification ON incident (verification)")
        try:
            indexed_timings, indexed_results = time_in_turn(connection, [*candidates[:3], indexed], runs)
        finally:
            connection.execute("DROP INDEX ix_experiment_verification")
    finally:
        connection.close()
    if _counts(results[candidates[0].label]) != _counts(results[candidates[1].label]) or _counts(
        results[candidates[3].label]
    ) != _counts(indexed_results[indexed.label]):
        raise AssertionError("a whole-table variant answers differently")
    timings[indexed.label] = indexed_timings[indexed.label]
    rows = [[label, f"{seconds * 1000:,.0f}"] for label, seconds in timings.items()]
    table = markdown_table(["statement (whole table, no filter)", "ms"], rows)
    return f"Whole-table facets, median of {runs}, statements in turn, on the copy:\n\n{table}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="Timed runs per statement (the median is shown).")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="Default: all.")
    parser.add_argument("--experiments", action="store_true", help="Also time the suggested statement plan.")
    args = parser.parse_args()
    database = demo_database(args.incidents)
    shapes = args.shape or list(SHAPES)
    print(breakdown(database, shapes, args.runs))
    if args.experiments:
        print()
        print(experiments(database, shapes, args.runs))
        print()
        print(whole_table_experiments(database, args.runs))


if __name__ == "__main__":
    main()
