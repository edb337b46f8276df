"""`tnrwatch taxonomy`: show the common definition of transnational repression, or export it as JSON or
Markdown."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from tnrwatch.cli.common import EXIT_BAD_INPUT, handle_errors, out, print_error
from tnrwatch.errors import InvalidInputError
from tnrwatch.taxonomy import Taxonomy, Vocabulary, default_taxonomy
from tnrwatch.taxonomy.render import VOCABULARY_TITLES, taxonomy_to_json, taxonomy_to_markdown

app = typer.Typer(
    help="The common definition of transnational repression (taxonomy): show its vocabularies or export it.",
    no_args_is_help=True,
)


class ExportFormat(StrEnum):
    json = "json"
    md = "md"


@app.command()
def show(
    vocabulary: str | None = typer.Argument(
        None, help="One vocabulary to show, e.g. tactics or tlp. Without it, every vocabulary is shown."
    ),
) -> None:
    """Show the taxonomy's vocabularies as tables: code, label and definition of every term."""
    with handle_errors():
        tax = default_taxonomy()
        if vocabulary is not None and vocabulary not in tax.vocabularies:
            raise InvalidInputError(
                f"unknown vocabulary {vocabulary!r}; valid vocabularies: {', '.join(tax.vocabularies)}"
            )
        names = [vocabulary] if vocabulary is not None else list(tax.vocabularies)
        if vocabulary is None:
            heading = f"{tax.title}, version {tax.version} ({tax.released})"
            out.print(f"[bold]{escape(heading)}[/bold]")
        for name in names:
            out.print(_table(tax, tax.vocabularies[name]))


def _table(tax: Taxonomy, vocabulary: Vocabulary) -> Table:
    """A Rich table of one vocabulary. Cells are escaped, never read as markup: definitions hold brackets."""
    table = Table(title=f"{VOCABULARY_TITLES.get(vocabulary.name, vocabulary.name)} ({vocabulary.name})")
    table.add_column("code", style="bold", no_wrap=True)
    table.add_column("label")
    extra = [key for key in ("family", "parent", "ftm_schema", "stix_id") if _any_set(vocabulary, key)]
    for key in extra:
        table.add_column(key.replace("_", " "), overflow="fold")
    table.add_column("definition", ratio=1)
    for term in vocabulary:
        cells = [term.code, term.label, *(getattr(term, key) or "" for key in extra), term.definition]
        if term.examples:
            cells[-1] += "\n" + "\n".join(f"e.g. {example}" for example in term.examples)
        table.add_row(*(escape(cell) for cell in cells))
    return table


def _any_set(vocabulary: Vocabulary, key: str) -> bool:
    return any(getattr(term, key) is not None for term in vocabulary)


@app.command()
def export(
    export_format: ExportFormat = typer.Option(
        ..., "--format", "-f", help="json: everything, for programs; md: the generated reference page."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (UTF-8). Without it, the export goes to standard output."
    ),
) -> None:
    """Export the whole taxonomy. `docs/taxonomy.md` is made with `--format md -o docs/taxonomy.md`."""
    with handle_errors():
        tax = default_taxonomy()
        if export_format is ExportFormat.json:
            text = json.dumps(taxonomy_to_json(tax), indent=2, ensure_ascii=False) + "\n"
        else:
            text = taxonomy_to_markdown(tax)
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8", newline="\n")
        except OSError as exc:
            print_error(f"cannot write {output}: {exc.strerror or exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
