"""Migration 0004 turns the change records into a verifiable chain, and 0004's downgrade gives them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tnrwatch.services import audit
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store import migrate
from tnrwatch.store.db import Store

from ..conftest import BACKENDS, PostgresDatabases, require_postgres


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases | None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit-migration.sqlite3'}"
    return require_postgres(postgres_databases).create("audit")


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.dispose()


def test_change_records_become_a_chain_and_come_back(store: Store, database: str, tmp_path: Path) -> None:
    migrate.upgrade(store, "0003")
    at = "2026-11-28 12:30:15.123456" + ("" if store.dialect == "sqlite" else "+00:00")
    with store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO account (id, username, role, display_name, disabled, created_at, failed_sign_ins) "
                 "VALUES (7, 'ana', 'analyst', '', false, :at, 0)"),
            {"at": at},
        )  # fmt: skip
        for change_id, account_id in ((3, 7), (5, None), (9, 7)):  # gaps, as a rolled-back insert leaves them
            connection.execute(
                text("INSERT INTO change (id, at, account_id, action, entity, entity_uuid, fields, count, note) "
                     "VALUES (:id, :at, :account, 'update', 'incident', :uuid, '[\"title\"]', 1, '')"),
                {"id": change_id, "at": at, "account": account_id, "uuid": uuid.uuid4().hex},
            )  # fmt: skip
    migrate.upgrade(store)

    node = Node.open(Settings(home=tmp_path / "home", database_url=database))
    try:
        result = audit.verify(node)
        assert result.ok, result.problems
        assert (result.entries, result.last_id) == (3, 3)
        entries = audit.list_entries(node, Principal.operator(), limit=10).items
        assert [(e.id, e.username, e.role) for e in entries] == [
            (3, "ana", "analyst"),
            (2, "operator", "operator"),
            (1, "ana", "analyst"),
        ]
    finally:
        node.close()

    migrate.downgrade(store, "0003")
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, account_id, fields FROM change ORDER BY id")).all()
    assert [(row[0], row[1]) for row in rows] == [(1, 7), (2, None), (3, 7)]
