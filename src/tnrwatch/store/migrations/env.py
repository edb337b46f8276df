"""Alembic's entry point. tnrwatch always hands it an open connection (see `tnrwatch.store.migrate`)."""

from __future__ import annotations

from typing import Any

from alembic import context

from tnrwatch.store.migrate import include_object
from tnrwatch.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)


def _run(**_: Any) -> None:
    with context.begin_transaction():
        context.run_migrations()


_run()
