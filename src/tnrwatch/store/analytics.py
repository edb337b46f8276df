"""The map's columnar copy: the incident tables the map aggregates, in an in-process DuckDB database kept in step
with the store.

Why: a map view counts every matching incident five ways (by host, by origin, by pair, by month and family, by facet).
At a million incidents the row store answers one such view in seconds; a columnar engine answers it in tens of
milliseconds (docs/benchmarks.md, "The map"). Roll-up tables cannot give exact answers here: an incident has several
tactics, locations and targets, so counts of distinct incidents under any combination of filters do not add up
from per-dimension totals.

What: the columns that filters, visibility and the map's aggregates read (no titles, summaries, places or persons),
under the same table and column names as the store, so that the very expressions of `store.queries` and the
visibility rule run here unchanged (through the duckdb-engine SQLAlchemy dialect).

Keeping in step: triggers write the last change of each incident to `incident_change` in the changing transaction
(migration 0012). Before every read, the copy applies the incidents changed since it last looked: it deletes their
rows and copies them again from the store (so inserts, updates and deletes are all one operation, and applying a
change twice is harmless). On SQLite, one writer at a time makes `seq` a commit order. On PostgreSQL, a transaction
may commit a smaller `seq` after a larger one was seen; so the copy remembers the oldest transaction still running
when it last looked (the snapshot's xmin) and next time reads every change written by it or a later transaction,
skipping the versions it already applied.

Each process holds its own copy in memory (several server processes may run; DuckDB files take one writer). It is
built on first use or in the background at start; until it is ready, the map reads the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
from duckdb_engine import ConnectionWrapper
from sqlalchemy import (
    Column,
    Double,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tnrwatch.store.db import Store
from tnrwatch.store.models import Base, IncidentChange
from tnrwatch.taxonomy import Taxonomy, default_taxonomy

# Table -> the columns copied, in order. The incident key comes first.
COPIED: dict[str, tuple[str, ...]] = {
    "incident": (
        "id",
        "uuid",  # as 32 hex digits: the map's points link to their incident
        "date_start",
        "date_end",
        "date_precision",
        "host_state_role",
        "verification",
        "tlp",
        "synthetic",
        "jurisdiction_code",
        "shared_with_eu",
    ),
    "incident_origin": ("incident_id", "country"),
    "incident_location": ("incident_id", "position", "country", "geo_precision", "lat", "lon", "obfuscated"),
    "incident_tactic": ("incident_id", "tactic", "family"),  # family: derived from the taxonomy (not in the store)
    "incident_target": ("incident_id", "category"),
    "incident_vulnerability": ("incident_id", "flag"),
}
# What is read from the store for each table: the copied columns it has (the others are derived here).
STORED = {table: tuple(c for c in columns if c in Base.metadata.tables[table].c) for table, columns in COPIED.items()}
DATE_COLUMNS = frozenset({"date_start", "date_end"})
log = logging.getLogger("tnrwatch.analytics")
BATCH = 20_000  # incidents fetched from the store per statement while applying changes
REBUILD_SHARE = 0.25  # more changed incidents than this share of the copy: copy everything again


def _copy_metadata() -> MetaData:
    """The copied tables, with the store's column types, for DuckDB's DDL."""
    metadata = MetaData()
    for name, columns in COPIED.items():
        source = Base.metadata.tables[name]
        types = {column: _copy_type(source.c[column].type) for column in columns if column in source.c}
        types["uuid"] = String(32)
        Table(name, metadata, *[Column(column, types.get(column, String())) for column in columns])
    return metadata


def _copy_type(column_type: Any) -> Any:
    # FLOAT is 4 bytes in DuckDB: coordinates keep the store's double precision.
    return Double() if isinstance(column_type, Float) else column_type


@dataclass
class _Position:
    """How far the copy has read the change log. `seq`: the largest applied (SQLite). `horizon`: the oldest
    transaction running when the copy last looked (PostgreSQL); `applied`: incident -> (seq, xid) of the version
    applied, for the changes at or above the horizon, which are read again."""

    seq: int = 0
    horizon: int = 0
    applied: dict[int, tuple[int, int]] | None = None


class Analytics:
    """An in-memory DuckDB copy of the map's columns of one store. Thread-safe: catching up takes a lock; reads
    each use their own DuckDB cursor and see the last applied state."""

    def __init__(
        self,
        store: Store,
        taxonomy: Taxonomy | None = None,
        rebuild_above: int | None = None,
    ) -> None:
        self._store = store
        self._families = {term.code: term.family for term in (taxonomy or default_taxonomy()).tactics}
        # More changed incidents than this at one look: copy everything again (default: a quarter of the copy).
        self._rebuild_above = rebuild_above
        self._connection = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        self._position: _Position | None = None
        self._rows = 0
        self.engine: Engine = create_engine(
            "duckdb://", creator=lambda: ConnectionWrapper(self._connection.cursor()), poolclass=NullPool
        )
        _copy_metadata().create_all(self.engine)

    @property
    def ready(self) -> bool:
        return self._position is not None

    @property
    def building(self) -> bool:
        """Being copied for the first time (in the background): readers go to the store meanwhile."""
        return self._position is None and self._lock.locked()

    @property
    def incidents(self) -> int:
        """Incidents in the copy (after its last catch-up)."""
        return self._rows

    def build_in_background(self) -> threading.Thread:
        def build() -> None:
            try:
                self.catch_up()
            except Exception:  # the map's first request tries again, and fails visibly if it must
                log.exception("the map's columnar copy could not be built")

        thread = threading.Thread(target=build, name="tnrwatch-analytics", daemon=True)
        thread.start()
        return thread

    def catch_up(self) -> int:
        """Apply every change committed in the store since the last look (the first time: copy everything).
        Returns the number of incidents copied again."""
        with self._lock:
            try:
                if self._position is None:
                    return self._build()
                return self._apply_changes()
            except BaseException:
                self._position = None  # half-applied: the next look copies everything again
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session on the copy, caught up with the store's committed changes."""
        self.catch_up()
        with Session(self.engine) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
        self._connection.close()

    # Building and applying ---------------------------------------------------------------------------------------

    def _build(self) -> int:
        postgres = self._store.dialect == "postgresql"
        position = _Position(applied={} if postgres else None)
        options = {"isolation_level": "REPEATABLE READ"} if postgres else {}
        with self._store.engine.connect().execution_options(**options) as connection:
            if postgres:
                # One snapshot for every table; its xmin: the changes of transactions not in it come later.
                position.horizon = _xmin(connection)
            position.seq = connection.scalar(select(func.coalesce(func.max(IncidentChange.seq), 0))) or 0
            self._connection.execute("BEGIN TRANSACTION")
            try:
                for table in COPIED:
                    self._connection.execute(f"DELETE FROM {table}")  # noqa: S608 (names from COPIED)
                    tables = Base.metadata.tables[table]
                    result = connection.execution_options(stream_results=True, yield_per=100_000).execute(
                        select(*[tables.c[column] for column in STORED[table]])
                    )
                    for rows in result.partitions():
                        self._insert(table, rows)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            connection.rollback()
        self._rows = self._count()
        self._position = position
        return self._rows

    def _apply_changes(self) -> int:
        position = self._position
        assert position is not None
        with self._store.engine.connect() as connection:
            found: Sequence[Any]
            if position.applied is None:
                found = connection.execute(
                    select(IncidentChange.incident_id, IncidentChange.seq).where(IncidentChange.seq > position.seq)
                ).all()
                changed = [incident_id for incident_id, _ in found]
                next_seq = max([seq for _, seq in found], default=position.seq)
            else:
                horizon = _xmin(connection)
                found = connection.execute(
                    select(IncidentChange.incident_id, IncidentChange.seq, IncidentChange.xid).where(
                        IncidentChange.xid >= position.horizon
                    )
                ).all()
                applied = position.applied
                changed = [incident_id for incident_id, seq, xid in found if applied.get(incident_id) != (seq, xid)]
            if not changed:
                connection.rollback()
                if position.applied is not None:
                    self._advance(position, horizon, [])
                return 0
            limit = self._rebuild_above if self._rebuild_above is not None else max(BATCH, REBUILD_SHARE * self._rows)
            if len(changed) > limit:
                connection.rollback()
                self._position = None
                return self._build()
            self._connection.execute("BEGIN TRANSACTION")
            try:
                self._replace(connection, changed)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            connection.rollback()
        if position.applied is None:
            position.seq = next_seq
        else:
            self._advance(position, horizon, found)
        self._rows = self._count()
        return len(changed)

    @staticmethod
    def _advance(position: _Position, horizon: int, found: Sequence[Any]) -> None:
        applied = position.applied
        assert applied is not None
        for incident_id, seq, xid in found:
            applied[incident_id] = (seq, xid)
        position.horizon = horizon
        # Changes below the new horizon are never read again: forget them.
        for incident_id in [i for i, (_, xid) in applied.items() if xid < horizon]:
            del applied[incident_id]

    def _replace(self, connection: Any, changed: list[int]) -> None:
        """Delete the copies of `changed` incidents and copy their current rows (none, for a deleted incident)."""
        ids = np.array(sorted(set(changed)), dtype=np.int64)
        self._connection.register("tnrwatch_changed", {"id": ids})
        try:
            for table, columns in COPIED.items():
                key = columns[0]
                emptied = f"DELETE FROM {table} WHERE {key} IN (SELECT id FROM tnrwatch_changed)"  # noqa: S608 (COPIED)
                self._connection.execute(emptied)
        finally:
            self._connection.unregister("tnrwatch_changed")
        for start in range(0, len(ids), BATCH):
            chunk = [int(i) for i in ids[start : start + BATCH]]
            for table, columns in COPIED.items():
                source = Base.metadata.tables[table]
                wanted = source.c[columns[0]].in_(chunk)
                rows = connection.execute(select(*[source.c[c] for c in STORED[table]]).where(wanted)).all()
                if rows:
                    self._insert(table, rows)

    def _insert(self, table: str, rows: Sequence[Any]) -> None:
        """Insert rows through numpy arrays that DuckDB scans in place. Every array is typed: DuckDB guesses the type
        of an object array from a sample, and fails on a long column of None (a node's own incidents have no owning
        jurisdiction). A column with None travels as typed values plus a null mask."""
        columns = COPIED[table]
        if table == "incident_tactic":  # (incident_id, tactic) + the tactic's family
            rows = [(incident_id, tactic, self._families.get(tactic)) for incident_id, tactic in rows]
        batch: dict[str, np.ndarray[Any, Any]] = {}
        selected = []
        for name, values in zip(columns, zip(*rows, strict=True), strict=True):
            if name in DATE_COLUMNS:
                batch[name] = np.array(values, dtype="datetime64[s]")
                selected.append(f"CAST({name} AS DATE)")
            elif name == "uuid":
                batch[name] = np.array([value.hex for value in values])
                selected.append(name)
            elif any(value is None for value in values):
                present = next((value for value in values if value is not None), "")
                filler = "" if isinstance(present, str) else type(present)()
                batch[name] = np.array([filler if value is None else value for value in values])
                batch[f"{name}_is_null"] = np.array([value is None for value in values], dtype=bool)
                selected.append(f"CASE WHEN {name}_is_null THEN NULL ELSE {name} END")
            else:
                batch[name] = np.array(values)
                selected.append(name)
        self._connection.register("tnrwatch_batch", batch)
        try:
            filled = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selected)} FROM tnrwatch_batch"  # noqa: S608
            self._connection.execute(filled)
        finally:
            self._connection.unregister("tnrwatch_batch")

    def _count(self) -> int:
        found = self._connection.execute("SELECT count(*) FROM incident").fetchone()
        return int(found[0]) if found else 0


def _xmin(connection: Any) -> int:
    """The oldest transaction still running in this connection's snapshot (PostgreSQL)."""
    return int(connection.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")))
