"""The report shredding keys (crypto/shred.py), one per report, in a SQLite file of the key directory.

Apart from the database on purpose: database backups never hold these keys, so deleting one makes the report it
belongs to unreadable in every backup as well. The file is small (a report costs ~100 bytes); back it up on its own,
and keep those backups no longer than the shortest retention period (docs/operations.md, "Retention").

Deletion overwrites: `secure_delete` zeroes the freed bytes, and a TRUNCATE checkpoint empties the write-ahead log,
so a deleted key does not linger in free pages or the log.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tnrwatch.store.types import utcnow

FILE_NAME = "report-keys.sqlite3"
KEY_BYTES = 32  # crypto/shred.py: an XChaCha20-Poly1305 key
_CHUNK = 500  # report ids per statement (SQLite allows 32,766 parameters; a group holds far fewer reports)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS report_shred_key (
    report_id BLOB PRIMARY KEY,
    key BLOB NOT NULL,
    made_at TEXT NOT NULL
) WITHOUT ROWID
"""


class ShredKeys:
    """Get-or-make and destroy report shredding keys. Safe across threads (a connection per thread) and processes
    (SQLite's write lock; keys are made in one immediate transaction)."""

    def __init__(self, key_dir: Path, *, synchronous: str = "FULL") -> None:
        self.path = key_dir / FILE_NAME
        self._synchronous = synchronous
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._transaction() as db:
            db.execute(_SCHEMA)
        self.path.chmod(0o600)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode = WAL", f"synchronous = {self._synchronous}", "secure_delete = ON"):
                db.execute(f"PRAGMA {pragma}")
            self._local.db = db
            with self._lock:
                self._opened.append(db)
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def get_or_make(self, report_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        """The key of each report, made (and committed, before any report row is written) when it has none yet. A
        report sent twice keeps its first key: its stored copies were wrapped with it."""
        keys: dict[uuid.UUID, bytes] = {}
        wanted = list(dict.fromkeys(report_ids))
        with self._transaction() as db:
            for start in range(0, len(wanted), _CHUNK):  # one query and one insert per chunk: this is the intake path
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                found = db.execute(
                    f"SELECT report_id, key FROM report_shred_key WHERE report_id IN ({marks})",  # noqa: S608 - marks only
                    [report_id.bytes for report_id in chunk],
                ).fetchall()
                keys.update((uuid.UUID(bytes=row[0]), bytes(row[1])) for row in found)
                made = [(report_id, secrets.token_bytes(KEY_BYTES)) for report_id in chunk if report_id not in keys]
                made_at = _hour(utcnow())
                db.executemany(
                    "INSERT INTO report_shred_key (report_id, key, made_at) VALUES (?, ?, ?)",
                    [(report_id.bytes, key, made_at) for report_id, key in made],
                )
                keys.update(made)
        return keys

    def get(self, report_id: uuid.UUID) -> bytes | None:
        found = (
            self._connection()
            .execute("SELECT key FROM report_shred_key WHERE report_id = ?", (report_id.bytes,))
            .fetchone()
        )
        return None if found is None else bytes(found[0])

    def destroy(self, report_ids: Iterable[uuid.UUID]) -> int:
        """Delete the keys of these reports for good. Returns how many existed."""
        ids = [(report_id.bytes,) for report_id in report_ids]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany("DELETE FROM report_shred_key WHERE report_id = ?", ids)
            count = db.total_changes - before
        self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def made_before(self, cutoff: dt.datetime) -> list[uuid.UUID]:
        """Reports whose key was made before `cutoff` (to find keys whose report never arrived)."""
        rows = (
            self._connection()
            .execute("SELECT report_id FROM report_shred_key WHERE made_at < ?", (_hour(cutoff),))
            .fetchall()
        )
        return [uuid.UUID(bytes=row[0]) for row in rows]

    def close(self) -> None:
        """Close the connections of every thread (call when no thread uses the store any more)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
        self._local = threading.local()


def _hour(moment: dt.datetime) -> str:
    """Rounded down to the hour, as the report's own received time: the key store dates no report more closely."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0).isoformat()
