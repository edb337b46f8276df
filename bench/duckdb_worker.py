"""DuckDB's side of the query benchmark. Runs in the peers' venv (bench/peers.py), never imports tnrwatch.

Two modes over the same data:
- `scan`: the tnrwatch SQLite file itself, attached read-only through DuckDB's sqlite scanner;
- `native`: a copy of the incident tables in DuckDB's own columnar format, with an index on each table's key
  (`--build-native` makes it).

Protocol: one JSON request per stdin line, one JSON answer per stdout line. A request is a query plan
`{"page": SQL, "children": {name: SQL with {ids}}, "facets": {name: SQL}}`; the answer holds the rows and `seconds`, the
time from the first statement to the last row fetched, measured here (no pipe, no JSON in it).

    python bench/duckdb_worker.py --sqlite DB --mode scan [--threads N]
    python bench/duckdb_worker.py --sqlite DB --build-native OUT.duckdb
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import duckdb_extension_sqlite_scanner

# The tables a search reads, with the key each is clustered on in SQLite (the native copy keeps that order).
TABLES = {
    "incident": "id",
    "incident_origin": "incident_id, country",
    "incident_location": "incident_id, position",
    "incident_tactic": "incident_id, tactic",
    "incident_target": "incident_id, category",
    "incident_vulnerability": "incident_id, flag",
    "source": "incident_id, position",
    "incident_actor": "incident_id, actor_id",
    "incident_person": "incident_id, person_id",
    "actor": "id",
    "person": "id",
    "account": "id",
}


def _load_scanner(connection: duckdb.DuckDBPyConnection) -> None:
    # INSTALL would download; the PyPI package ships the extension file for exactly this DuckDB version.
    folder = Path(duckdb_extension_sqlite_scanner.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    connection.execute(f"LOAD '{folder / 'sqlite_scanner.duckdb_extension'}'")


def connect(sqlite_path: Path, mode: str, native_path: Path | None, threads: int | None) -> duckdb.DuckDBPyConnection:
    if mode == "native":
        if native_path is None:
            raise SystemExit("--mode native needs --native PATH")
        connection = duckdb.connect(str(native_path), read_only=True)
    else:
        connection = duckdb.connect()
        _load_scanner(connection)
        connection.execute(f"ATTACH '{sqlite_path}' AS tnrwatch (TYPE sqlite, READ_ONLY)")
        connection.execute("USE tnrwatch")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    return connection


def build_native(sqlite_path: Path, target: Path) -> None:
    """Copy the search tables into a DuckDB file; written next to `target` and renamed when complete."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    connection = duckdb.connect(str(partial))
    _load_scanner(connection)
    connection.execute(f"ATTACH '{sqlite_path}' AS source_db (TYPE sqlite, READ_ONLY)")
    for table, order in TABLES.items():
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM source_db.{table} ORDER BY {order}")
        # Row lookups by key (the page's rows) are point queries: without an index DuckDB scans every table
        # (~170 ms for a page at 1M incidents), with one it probes (~20 ms). SQLite has these keys too.
        key = order.split(",")[0]
        unique = "UNIQUE " if key == "id" else ""
        connection.execute(f"CREATE {unique}INDEX ix_{table}_{key} ON {table} ({key})")
    connection.execute("DETACH source_db")
    connection.execute("CHECKPOINT")
    connection.close()
    partial.rename(target)


def run_plan(connection: duckdb.DuckDBPyConnection, plan: dict[str, Any]) -> dict[str, Any]:
    """Run one search the way tnrwatch does: the page's ids, then the page's rows per table, then each facet."""
    started = time.perf_counter()
    page = connection.execute(plan["page"]).fetchall()
    ids = ", ".join(str(int(row[0])) for row in page) or "NULL"
    children = {name: connection.execute(sql.format(ids=ids)).fetchall() for name, sql in plan["children"].items()}
    facets = {name: connection.execute(sql).fetchall() for name, sql in plan["facets"].items()}
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "page": page, "children": children, "facets": facets}


def serve(connection: duckdb.DuckDBPyConnection) -> None:
    print(json.dumps({"ready": True, "duckdb": duckdb.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = run_plan(connection, json.loads(line))
        print(json.dumps(answer, default=str), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", type=Path, required=True, help="The tnrwatch SQLite database.")
    parser.add_argument("--mode", choices=("scan", "native"), default="scan")
    parser.add_argument("--native", type=Path, help="The DuckDB copy (for --mode native).")
    parser.add_argument("--threads", type=int, help="DuckDB worker threads (default: one per core).")
    parser.add_argument("--build-native", type=Path, metavar="OUT", help="Copy the tables into OUT and exit.")
    args = parser.parse_args()
    if args.build_native:
        build_native(args.sqlite, args.build_native)
        return
    serve(connect(args.sqlite, args.mode, args.native, args.threads))


if __name__ == "__main__":
    main()
