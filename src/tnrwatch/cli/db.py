"""`tnrwatch db`: create and migrate the store."""

from __future__ import annotations

import typer

from tnrwatch.cli.common import err, handle_errors, load_settings, out
from tnrwatch.services.node import Node
from tnrwatch.store import migrate

app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Revision to upgrade to.")) -> None:
    """Create the database or bring it up to date; create the vault key if the key directory has none."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            before = migrate.current_revision(node.store)
            migrate.upgrade(node.store, revision)
            after = migrate.current_revision(node.store)
            _ = node.vault  # opening it creates the first key
        finally:
            node.close()
    if before == after:
        err.print(f"database already at revision {after}")
    else:
        err.print(f"database upgraded from {before or 'empty'} to {after}")


@app.command()
def downgrade(
    revision: str = typer.Argument(..., help="Revision to go back to ('base' removes everything)."),
) -> None:
    """Undo migrations down to REVISION."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            migrate.downgrade(node.store, revision)
            err.print(f"database now at revision {migrate.current_revision(node.store) or 'base (empty)'}")
        finally:
            node.close()


@app.command()
def current() -> None:
    """Print the database's revision and the newest one this version of tnrwatch knows."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            out.print(f"current: {migrate.current_revision(node.store) or 'none'}")
            out.print(f"head:    {migrate.head_revision()}")
        finally:
            node.close()
