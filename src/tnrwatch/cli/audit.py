"""`tnrwatch audit`: check the tamper-evident audit log, seal it, export it for another party, and read it.

`verify` exits 1 when the chain is broken and names the row where it breaks; the other party runs
`verify --file EXPORT` on the exported file, with no database, and compares the key fingerprint it prints with the
one the operator gave them over another channel.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from tnrwatch.cli.common import EXIT_FAILURE, err, handle_errors, load_settings, out
from tnrwatch.crypto.audit_key import fingerprint
from tnrwatch.services import audit
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(help="The tamper-evident audit log: verify, seal, export, list.", no_args_is_help=True)


@app.command("verify")
def verify(
    file: Path | None = typer.Option(
        None, "--file", help="Check an export made by `tnrwatch audit export` instead of this node's database."
    ),
) -> None:
    """Recompute the hash chain and check every seal; exit 1 naming the row where the log was tampered with."""
    with handle_errors():
        if file is not None:
            result = audit.verify_export(file)
        else:
            node = Node.open(load_settings())
            try:
                result = audit.verify(node)
            finally:
                node.close()
    _report(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILURE)


@app.command("seal")
def seal() -> None:
    """Sign the chain's head now with the node's key (appends also do so every `audit_seal_minutes`)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            sealed = audit.seal(node)
            key = audit.public_key(node)
        finally:
            node.close()
    if sealed is None:
        err.print("the audit log is empty: nothing to seal")
        return
    out.print(f"sealed row {sealed.last_id} ({sealed.last_hash[:16]}...), key {fingerprint(key)}", highlight=False)


@app.command("export")
def export(out_file: Path = typer.Option(..., "--out", help="The new file (JSON lines; it must not exist).")) -> None:
    """Seal the log and write all of it (entries, seals, the public key) to a file another party can check."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            result = audit.export(node, out_file)
            key = audit.public_key(node)
        finally:
            node.close()
    err.print(f"wrote {result.entries} entries and {result.seals} seals to {out_file}", highlight=False)
    out.print(f"key fingerprint {fingerprint(key)}", highlight=False)


@app.command("list")
def list_entries(limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="How many, newest first.")) -> None:
    """The newest audit entries: who did what to which record (never values, names or content)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            page = audit.list_entries(node, Principal.operator(), limit=limit)
        finally:
            node.close()
    table = Table("id", "at (UTC)", "who", "role", "action", "entity", "id of entity", "fields", "count", "note")
    for entry in page.items:
        table.add_row(
            str(entry.id),
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.username,
            entry.role + (f" ({entry.jurisdiction})" if entry.jurisdiction else ""),
            entry.action,
            entry.entity,
            entry.entity_uuid or "",
            ", ".join(entry.fields),
            str(entry.count),
            entry.note,
        )
    out.print(table)


def _report(result: audit.VerifyResult) -> None:
    for problem in result.problems:
        err.print(Text.assemble(("broken: ", "bold red"), problem.message), highlight=False)
    if result.ok:
        last = f"up to row {result.last_id}" if result.last_id is not None else "empty"
        out.print(f"ok: {result.entries} entries ({last}), {result.seals} seals", highlight=False)
    if result.public_key is not None:
        out.print(f"seals checked against the key {fingerprint(result.public_key)}", highlight=False)
