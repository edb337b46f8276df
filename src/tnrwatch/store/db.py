"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with foreign keys on. Python's sqlite3 module opens transactions late and on its own terms, so
the engine takes over: it emits BEGIN itself, and `Store.writing()` begins with BEGIN IMMEDIATE so that two writers
queue on the lock (honouring busy_timeout) instead of failing when a read transaction tries to become a write one.

Both engines hide statement parameters in their errors: a failed insert of a report would otherwise put its
ciphertext and receipt hash into whatever logs the error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tnrwatch.errors import ConfigurationError
from tnrwatch.settings import Settings

_WRITE_OPTION = "tnrwatch_write"
CHECKPOINT_SECONDS = 0.5

log = logging.getLogger("tnrwatch.store")


class Store:
    """One engine and its sessions. `reading()` for queries, `writing()` for changes (committed on success)."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5) -> None:
        self.url = make_url(url)
        self.engine = _create_engine(url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        self._checkpointer: _Checkpointer | None = None
        # Copied into every write session's `info`: how the layers above reach their per-node helpers from a bare
        # session (the audit log's sealer: `services.changes`), without the store knowing what they are.
        self.write_session_info: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(
            settings.resolved_database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_size=settings.db_pool_size,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends and rolls back on any exception."""
        with self._write_sessions(info=dict(self.write_session_info)) as session, session.begin():
            yield session

    def checkpoint_in_background(self, every: float = CHECKPOINT_SECONDS) -> None:
        """SQLite: this engine's commits stop copying the write-ahead log back into the database file (a commit that
        does so waits for two fsyncs: half a report writer's time, docs/benchmarks.md), and a thread does it every
        `every` seconds beside the writes (PASSIVE: it never blocks them). For the process that writes the most: the
        report writer. Nothing to do on PostgreSQL."""
        if self.dialect != "sqlite" or self._checkpointer is not None:
            return
        event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # the pool's connections were made without it
        self._checkpointer = _Checkpointer(self.engine, every)
        self._checkpointer.start()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()


def _create_engine(url: str, *, sqlite_synchronous: str, pool_size: int) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, sqlite_synchronous)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigurationError(
                f"use the psycopg driver for PostgreSQL: postgresql+psycopg://... (got {parsed.drivername})"
            )
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True)
    raise ConfigurationError(f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://...")


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the engine emits BEGIN itself (see the module docstring)
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode = WAL",
            "foreign_keys = ON",
            f"synchronous = {synchronous}",
            "busy_timeout = 30000",
            "cache_size = -65536",  # 64 MiB of page cache per connection
            # Read pages straight from the OS cache: faceted searches over a million incidents ran 1.4x faster
            # (docs/benchmarks.md). It reserves address space, not memory.
            "mmap_size = 1073741824",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint = 0")


class _Checkpointer(threading.Thread):
    """Copies the write-ahead log into the database file every few seconds, on a connection of its own."""

    def __init__(self, engine: Engine, every: float) -> None:
        super().__init__(name="tnrwatch checkpointer", daemon=True)
        self.engine = engine
        self.every = every
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.every):
            self.checkpoint()

    def checkpoint(self) -> None:
        try:
            connection = self.engine.raw_connection()
            try:  # on the driver's connection, which begins no transaction (a checkpoint cannot run inside one)
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.close()
            finally:
                connection.close()
        except Exception as exc:  # a failed checkpoint leaves the log longer; the next one tries again
            log.warning("write-ahead log checkpoint failed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stopping.set()
        self.join()
        self.checkpoint()
