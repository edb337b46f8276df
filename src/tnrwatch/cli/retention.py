"""`tnrwatch retention`: shred the raw reports of closed cases whose retention period has ended.

The server runs the same job every `scheduled_minutes`; these commands run it now, show what is due, shred chosen
reports at once, and wrap the key copies of reports stored before retention existed.
"""

from __future__ import annotations

import uuid

import typer
from rich.table import Table

from tnrwatch.cli.common import err, handle_errors, load_settings, out
from tnrwatch.services import retention
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(help="Retention of raw reports: crypto-shredding after a case closes.", no_args_is_help=True)


@app.command("due")
def due() -> None:
    """Closed cases whose raw report is due for shredding."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            rows = retention.due(node)
        finally:
            node.close()
    table = Table("report", "jurisdiction", "closed", "due")
    for row in rows:
        table.add_row(str(row.report_id), row.jurisdiction, f"{row.closed_at:%Y-%m-%d %H:%M}", f"{row.due_at:%Y-%m-%d}")
    out.print(table)
    err.print(f"{len(rows)} report(s) due")


@app.command("run")
def run() -> None:
    """Shred every report that is due now (and forget shredding keys whose report never arrived)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            result = retention.run(node)
        finally:
            node.close()
    err.print(f"{len(result.shredded)} report(s) shredded, {result.orphan_keys} orphaned key(s) forgotten")


@app.command("shred")
def shred(
    report_ids: list[uuid.UUID] = typer.Argument(..., help="Reports to shred now, whatever their state."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: the content can never be read again."),
) -> None:
    """Shred these reports now: their content becomes unreadable for good, in backups as well."""
    if not yes:
        err.print("shredding cannot be undone: pass --yes to confirm")
        raise typer.Exit(2)
    with handle_errors():
        node = Node.open(load_settings())
        try:
            done = retention.shred_reports(node, Principal.operator(), report_ids)
        finally:
            node.close()
    err.print(f"{len(done)} report(s) shredded ({len(report_ids) - len(done)} were already)")


@app.command("wrap-existing")
def wrap_existing() -> None:
    """Give reports stored before retention existed their shredding keys (backups taken before stay readable)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            count = retention.wrap_existing(node, Principal.operator())
        finally:
            node.close()
    err.print(f"{count} report(s) wrapped")
