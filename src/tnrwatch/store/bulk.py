"""Fast bulk writes: many rows per statement through the database driver, bypassing SQLAlchemy's per-row processing.

Imports and demo seeding write hundreds of thousands of rows; SQLAlchemy's parameter processing cost more than
SQLite's own work. Here rows are plain tuples handed to the driver's executemany, with the few non-native values
(dates, timestamps, uuids) converted exactly as SQLAlchemy's column types store them on each dialect, so that rows
written here read back through the models unchanged (`tests/store/test_bulk.py` checks that).

Row ids are reserved up front (SQLite: after the current maximum, under the write lock that `Store.writing()` holds
from its BEGIN IMMEDIATE; PostgreSQL: from the table's sequence), so children can be written without reading ids back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Date, DateTime, Uuid, text
from sqlalchemy.types import TypeDecorator, TypeEngine

from tnrwatch.store.models import Base


def _sqlite_uuid(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex  # sqlalchemy.Uuid keeps 32 hex digits in a CHAR(32) on SQLite


def _sqlite_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


@lru_cache(maxsize=64)  # a batch stamps every row with the same few timestamps
def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)  # UTCDateTime stores naive UTC on SQLite
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_converter(column_type: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, Uuid):
        return _sqlite_uuid
    if isinstance(column_type, DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return _sqlite_date
    return None


@cache
def _sqlite_converters(table: str, columns: tuple[str, ...]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position, converter) for the columns whose values SQLite's driver cannot store as SQLAlchemy would."""
    found = []
    for position, name in enumerate(columns):
        converter = _sqlite_converter(Base.metadata.tables[table].c[name].type)
        if converter is not None:
            found.append((position, converter))
    return tuple(found)


def _converted(
    rows: Sequence[Sequence[Any]], converters: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> Sequence[Sequence[Any]]:
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for position, converter in converters:
            values[position] = converter(values[position])
        converted.append(tuple(values))
    return converted


# The tables whose inserts the map's change log must see (migration 0012), with the column naming the incident.
CHANGE_LOGGED = {
    "incident": "id",
    "incident_origin": "incident_id",
    "incident_location": "incident_id",
    "incident_tactic": "incident_id",
    "incident_target": "incident_id",
    "incident_vulnerability": "incident_id",
}


class BulkWriter:
    """Writes rows to tables of one connection, inside the caller's transaction: one writer per transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._noted: set[int] = set()  # incidents already in the change log in this transaction (SQLite)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert `rows` (tuples in `columns` order) into `table`: one executemany on SQLite, one COPY on PostgreSQL
        (one statement, so the change log's statement triggers, migration 0012, fire once per batch, not per row)."""
        if not rows:
            return
        if self.dialect == "postgresql":
            self._copy(table, columns, rows)
            return
        if self.dialect == "sqlite":
            self._note_changes(table, columns, rows)
            rows = _converted(rows, _sqlite_converters(table, tuple(columns)))
        placeholders = ", ".join([self._marker] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 (names from the models)
        self.connection.exec_driver_sql(sql, list(rows))

    def _note_changes(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """SQLite: note the incidents these rows belong to in the change log (migration 0012; PostgreSQL's statement
        triggers do it there), once per incident and transaction, all with the next change number: one writer at a
        time on SQLite, so numbers follow the order of commits."""
        if table not in CHANGE_LOGGED:
            return
        position = list(columns).index(CHANGE_LOGGED[table])
        incidents = {row[position] for row in rows} - self._noted
        if not incidents:
            return
        number = self.connection.exec_driver_sql("SELECT coalesce(max(seq), 0) + 1 FROM incident_change").scalar()
        self.connection.exec_driver_sql(
            "INSERT INTO incident_change (incident_id, seq) VALUES (?, ?) "
            "ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq",
            [(incident, number) for incident in sorted(incidents)],
        )
        self._noted |= incidents

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        driver = cast("psycopg.Connection[Any]", self.connection.connection.dbapi_connection)
        with (
            driver.cursor() as cursor,
            cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # names from the models
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """`count` new primary-key values for `table`, never handed out before."""
        if count == 0:
            return []
        if self.dialect == "postgresql":
            statement = text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"
            ).bindparams(table=table, count=count)
            return [int(value) for value in self.connection.execute(statement).scalars()]
        highest = self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()  # noqa: S608
        start = int(highest or 0) + 1
        return list(range(start, start + count))

    def existing_uuids(self, table: str, uuids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `uuids` are already in `table` (a unique `uuid` column)."""
        found: set[uuid.UUID] = set()
        for start in range(0, len(uuids), 900):  # under SQLite's default limit of bound parameters
            chunk = list(uuids[start : start + 900])
            values = [_sqlite_uuid(u) for u in chunk] if self.dialect == "sqlite" else chunk
            placeholders = ", ".join([self._marker] * len(chunk))
            sql = f"SELECT uuid FROM {table} WHERE uuid IN ({placeholders})"  # noqa: S608 (names from the models)
            for (value,) in self.connection.exec_driver_sql(sql, tuple(values)):
                found.add(value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value))
        return found

    def index_full_text(self, first_id: int, last_id: int) -> None:
        """Add incidents first_id..last_id to the SQLite full-text index in one statement (PostgreSQL computes its
        tsvector column itself). One set-based insert costs a tenth of a trigger firing per row."""
        if self.dialect != "sqlite":
            return
        self.connection.exec_driver_sql(
            "INSERT INTO incident_fts(rowid, title, summary) SELECT id, title, summary FROM incident "
            "WHERE id BETWEEN ? AND ?",
            (first_id, last_id),
        )
