"""The SQLite engine runs in WAL mode with foreign keys on; writers queue instead of failing."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tnrwatch.errors import ConfigurationError
from tnrwatch.store.db import Store


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}", sqlite_synchronous="FULL")
    with store.reading() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    store.dispose()


def test_sqlite_creates_the_parent_folder(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a' / 'b' / 'db.sqlite3'}")
    with store.writing() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    assert (tmp_path / "a" / "b" / "db.sqlite3").exists()
    store.dispose()


def test_a_failed_write_rolls_back(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with store.writing() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))

    def insert_then_fail() -> None:
        with store.writing() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    with store.reading() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    store.dispose()


def test_concurrent_writers_queue_on_the_lock(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with store.writing() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    failures: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with store.writing() as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # collected and re-raised in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with store.reading() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar() == 100  # no lost update
    store.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://x/y", "unsupported database"), ("postgresql+psycopg2://u@h/db", "psycopg driver")],
)
def test_unsupported_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Store(url)


def test_a_background_checkpoint_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    """With `checkpoint_in_background`, commits leave their pages in the write-ahead log (no fsyncs in the commit)
    and the checkpointer thread copies them into the database file soon after."""
    path = tmp_path / "db.sqlite3"
    store = Store(f"sqlite:///{path}")
    with store.writing() as session:
        session.execute(text("CREATE TABLE t (x BLOB)"))
    store.checkpoint_in_background(every=0.05)
    try:
        with store.reading() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        marker = b"checkpointed-" + os.urandom(8).hex().encode()
        with store.writing() as session:
            session.execute(text("INSERT INTO t VALUES (:x)"), {"x": marker})
        deadline = time.monotonic() + 10
        while marker not in path.read_bytes():
            assert time.monotonic() < deadline, "the row never reached the database file"
            time.sleep(0.05)
    finally:
        store.dispose()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
