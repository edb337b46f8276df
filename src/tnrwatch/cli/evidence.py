"""`tnrwatch evidence`: check every evidence file and custody log, list a report's evidence, export one item's log.

`verify` exits 1 when a file or a custody log was tampered with, naming the item and the first broken link; another
party runs `verify --file EXPORT` on a log exported with `export`, without the database.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import typer
from rich.table import Column, Table
from rich.text import Text

from tnrwatch.cli.common import EXIT_FAILURE, err, handle_errors, load_settings, out
from tnrwatch.services import evidence
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(help="Evidence and its chain of custody: verify, list, export.", no_args_is_help=True)


@app.command("verify")
def verify(
    item: uuid.UUID | None = typer.Option(None, "--item", help="Check this item only (its id)."),
    file: Path | None = typer.Option(
        None, "--file", help="Check a log written by `tnrwatch evidence export` instead of this node's database."
    ),
) -> None:
    """Recompute each evidence file's SHA-256 and each custody chain; exit 1 naming the first broken link."""
    with handle_errors():
        if file is not None:
            result = evidence.verify_export(file)
        else:
            node = Node.open(load_settings())
            try:
                result = evidence.verify(node, Principal.operator(), item)
            finally:
                node.close()
    for problem in result.problems:
        err.print(Text.assemble(("broken: ", "bold red"), problem.message), highlight=False)
    if not result.ok:
        raise typer.Exit(EXIT_FAILURE)
    files = f", {result.files_checked} files hashed" if file is None else " (the file itself is not in an export)"
    out.print(f"ok: {result.items} items, {result.events} custody events{files}", highlight=False)


@app.command("list")
def list_items(report: uuid.UUID = typer.Option(..., "--report", help="The report's id.")) -> None:
    """A report's evidence: kind, hashes taken at capture, and its custody log (labels stay encrypted)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            listed = evidence.list_items(node, Principal.operator(), report)
        finally:
            node.close()
    if not listed.items:
        err.print("no evidence for this report")
        return
    table = Table(
        Column("item", no_wrap=True, min_width=36),  # ids are copied into other commands: never cut
        "kind",
        "captured (UTC)",
        Column("plaintext SHA-256", no_wrap=True, min_width=64),
        "bytes",
        "custody",
    )
    for item in listed.items:
        custody = ", ".join(f"{event.seq} {event.action}" for event in item.events)
        if item.problem:
            custody += f" [BROKEN: {item.problem}]"
        table.add_row(
            str(item.id),
            item.kind,
            item.captured_at.strftime("%Y-%m-%d %H:%M:%S"),
            item.sha256,
            str(item.size),
            custody,
        )
    out.print(table)


@app.command("export")
def export(
    item: uuid.UUID = typer.Argument(..., help="The evidence item's id."),
    out_file: Path = typer.Option(..., "--out", help="The new file (JSON; it must not exist)."),
) -> None:
    """Write one item's custody log, with what was taken at capture, to a file that verifies on its own."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            written = evidence.export_log(node, Principal.operator(), item, out_file)
        finally:
            node.close()
    err.print(f"wrote {written} custody events of item {item} to {out_file}", highlight=False)
