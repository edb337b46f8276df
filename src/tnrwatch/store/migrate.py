"""Run the Alembic migrations on a store, without an alembic.ini: `tnrwatch db upgrade` and the tests call these."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tnrwatch.store.db import Store

# Objects that migrations create by hand for one dialect (full-text search) and the models do not declare.
UNMODELLED_TABLES = frozenset(
    {
        "incident_fts",
        "incident_fts_data",
        "incident_fts_idx",
        "incident_fts_docsize",
        "incident_fts_config",
        "incident_fts_content",
    }
)
UNMODELLED_COLUMNS = frozenset({"search_vector"})
UNMODELLED_INDEXES = frozenset({"ix_incident_search_vector"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name in UNMODELLED_TABLES:
        return False
    if type_ == "column" and name in UNMODELLED_COLUMNS:
        return False
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "tnrwatch.store:migrations")
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(store: Store, revision: str) -> None:
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revisions() -> list[str]:
    """Every revision from the first to head, in order."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
