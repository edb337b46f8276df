"""`tnrwatch registry`: the protected-persons registry notices are screened against. Identities go to the vault;
lists and counts are by pseudonym and category only."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tnrwatch.cli.common import err, out, run_on_node
from tnrwatch.domain.notice import REGISTRY_CATEGORIES
from tnrwatch.services import registry
from tnrwatch.services.policy import Principal

app = typer.Typer(help="The protected-persons registry (identities in the vault).", no_args_is_help=True)


@app.command("import")
def import_registry(
    file: Path = typer.Argument(..., help='A JSON file (a list, or {"registry": [...]}) or CSV.'),
    format: str | None = typer.Option(None, "--format", help="json or csv; default: from the file name."),
    synthetic: bool = typer.Option(False, "--synthetic", help="Mark every entry as made-up data (demo, training)."),
) -> None:
    """Import registry entries, identities sealed in the vault: all of them, or none and every bad row named."""
    result = run_on_node(
        lambda node: registry.import_registry(
            node, Principal.operator(), file, format=format, synthetic=synthetic, label=file.name
        )
    )
    err.print(f"{result.imported} registry entries imported from {result.file}", highlight=False, markup=False)


@app.command("list")
def list_registry(
    category: str | None = typer.Option(None, "--category", help=f"One of: {', '.join(REGISTRY_CATEGORIES)}."),
    origin: str | None = typer.Option(None, "--origin", help="Only those protected from this state (ISO alpha-2)."),
    limit: int = typer.Option(100, "--limit", min=1, max=100000),
) -> None:
    """List entries by pseudonym (never an identity)."""
    rows = run_on_node(
        lambda node: registry.list_registry(
            node, Principal.operator(), category=category, origin_state=origin, limit=limit
        )
    )
    table = Table("pseudonym", "category", "origin state", "focal point", "synthetic", "added")
    for entry in rows:
        table.add_row(
            entry.pseudonym,
            entry.category,
            entry.origin_state or "",
            entry.focal_point or "",
            "yes" if entry.synthetic else "",
            entry.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@app.command("count")
def count_registry() -> None:
    """Count entries by category."""
    counts = run_on_node(lambda node: registry.count_registry(node, Principal.operator()))
    table = Table("category", "entries")
    for category, count in counts.items():
        table.add_row(category, str(count))
    table.add_row("all", str(sum(counts.values())), style="bold")
    out.print(table)
