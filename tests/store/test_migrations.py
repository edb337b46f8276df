"""Migrations: head matches the models, and every revision goes up and down cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tnrwatch.store import migrate
from tnrwatch.store.db import Store
from tnrwatch.store.models import Base

from ..conftest import BACKENDS, PostgresDatabases, require_postgres


@pytest.fixture(params=BACKENDS)
def empty_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases | None
) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        url = require_postgres(postgres_databases).create("migrations")
    store = Store(url)
    yield store
    store.dispose()


def test_head_matches_the_models(empty_store: Store) -> None:
    migrate.upgrade(empty_store)
    with empty_store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": migrate.include_object, "compare_type": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "the models changed without a migration: run alembic revision --autogenerate"


def test_each_revision_upgrades_and_downgrades(empty_store: Store) -> None:
    revisions = migrate.revisions()
    assert revisions[-1] == migrate.head_revision()
    previous = "base"
    for revision in revisions:
        migrate.upgrade(empty_store, revision)
        assert migrate.current_revision(empty_store) == revision
        migrate.downgrade(empty_store, previous)
        assert migrate.current_revision(empty_store) == (None if previous == "base" else previous)
        migrate.upgrade(empty_store, revision)
        previous = revision
    migrate.downgrade(empty_store, "base")
    leftover = set(inspect(empty_store.engine).get_table_names()) - {"alembic_version"}
    assert leftover == set(), f"downgrade to base left tables behind: {sorted(leftover)}"


def test_full_text_search_objects_exist_per_dialect(empty_store: Store) -> None:
    migrate.upgrade(empty_store)
    inspector = inspect(empty_store.engine)
    if empty_store.dialect == "sqlite":
        assert "incident_fts" in inspector.get_table_names()
    else:
        assert "search_vector" in {column["name"] for column in inspector.get_columns("incident")}
