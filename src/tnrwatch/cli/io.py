"""`tnrwatch import` and `tnrwatch export`: incidents in and out of files, with a progress bar on long work."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from tnrwatch.cli import stix
from tnrwatch.cli.common import EXIT_BAD_INPUT, err, handle_errors, load_settings, print_error
from tnrwatch.domain.filters import IncidentFilter, filter_from_parameters
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.mapping_spec import shipped_mappings
from tnrwatch.interop.readers import FORMATS, format_of
from tnrwatch.services import exports, imports
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.taxonomy import default_taxonomy

ERRORS_LISTED = 200


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # a bar in a log file or a pipe is noise
    )


def _where(loc: tuple[str | int, ...], unit: str) -> str:
    """('data.csv', 5, 'locations', 0, 'country') -> 'data.csv, row 5, locations[0].country'."""
    if not loc:
        return "(input)"
    head, rest = [str(loc[0])], list(loc[1:])
    if rest and isinstance(rest[0], int):
        head.append(f"{unit} {rest.pop(0)}")
    field = ""
    for part in rest:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return ", ".join([*head, field] if field else head)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _print_errors(exc: InvalidInputError, unit: str) -> None:
    print_error(exc.message)
    for error in exc.errors[:ERRORS_LISTED]:
        err.print(Text.assemble("  ", (_where(error.loc, unit), "bold"), ": ", error.msg), highlight=False)
    if len(exc.errors) > ERRORS_LISTED:
        err.print(f"  ... and {len(exc.errors) - ERRORS_LISTED} more")


def import_command(
    file: Path = typer.Argument(..., help="The file to import: CSV, XLSX or JSON."),
    fmt: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)}. Default: from the file name, else from the mapping."
    ),
    mapping: str | None = typer.Option(
        None,
        "--mapping",
        help="A mapping file (YAML) that maps a foreign dataset onto incidents, or the name of a shipped one: "
        f"{', '.join(shipped_mappings())}. Without it, the file must be in tnrwatch's own layout.",
    ),
    on_conflict: str = typer.Option(
        "error",
        "--on-conflict",
        help="What an id that already exists does: 'error' (the import fails) or 'skip' (the stored incident stays).",
    ),
    synthetic: bool = typer.Option(
        False, "--synthetic", help="Mark every imported incident synthetic (for demo and training files)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=0,
        max=32,
        help="Processes that validate rows while this one writes. Default: by file size and CPUs; 0: none.",
    ),
) -> None:
    """Import incidents from FILE. Bad rows are all listed (file, row, field) and nothing is imported."""
    unit = "item" if (fmt or format_of(file)) == "json" else "row"
    if on_conflict not in imports.ON_CONFLICT:
        print_error(f"--on-conflict must be one of: {', '.join(imports.ON_CONFLICT)}")
        raise typer.Exit(EXIT_BAD_INPUT)
    request = imports.ImportRequest(
        path=file,
        format=fmt,
        mapping=mapping,
        on_conflict="skip" if on_conflict == "skip" else "error",
        synthetic=synthetic,
        workers=workers,
    )
    with handle_errors():
        node = Node.open(load_settings())
        # Everything loaded so far lives as long as this short process: keep the collector from scanning it again
        # and again while the import allocates (about a tenth of the import's time otherwise), and let it run less
        # often: an import's garbage is acyclic rows and batches that reference counting frees.
        gc.freeze()
        gc.set_threshold(100_000, 50, 50)
        try:
            with _progress_bar() as bar:
                task = bar.add_task(f"importing {file.name}", total=None)

                def advance(rows: int, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, description=f"importing {file.name}: {rows} rows")

                result = imports.import_file(node, Principal.operator(), request, progress=advance)
        except InvalidInputError as exc:
            _print_errors(exc, unit)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        finally:
            node.close()
    notes = []
    if result.skipped:
        notes.append(f"{_rows(result.skipped)} skipped by the mapping")
    if result.conflicts_skipped:
        notes.append(f"{_rows(result.conflicts_skipped)} already present, left as they were")
    extra = f" ({'; '.join(notes)})" if notes else ""
    err.print(f"imported {result.imported} incidents from {file}{extra}", highlight=False)


def _filter(options: dict[str, Any]) -> IncidentFilter:
    parsed = filter_from_parameters(options, default_taxonomy())
    if isinstance(parsed, list):
        errors = [FieldError((f"--{str(e.loc[0]).replace('_', '-')}", *e.loc[1:]), e.msg) for e in parsed]
        raise InvalidInputError("the export filters are invalid", errors)
    return parsed


def export_command(
    fmt: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(exports.FORMATS)}. Default: from the extension of -o."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="The file to write. Default: standard output."),
    origin: list[str] | None = typer.Option(
        None, "--origin", help="Origin state, ISO alpha-2; repeat or comma-separate."
    ),
    host: list[str] | None = typer.Option(None, "--host", help="Host state, ISO alpha-2."),
    tactic: list[str] | None = typer.Option(None, "--tactic", help="Tactic code."),
    tactic_family: list[str] | None = typer.Option(None, "--tactic-family", help="Tactic family code."),
    target_category: list[str] | None = typer.Option(None, "--target-category", help="Target category code."),
    vulnerability: list[str] | None = typer.Option(None, "--vulnerability", help="Vulnerability flag code."),
    verification: list[str] | None = typer.Option(None, "--verification", help="Verification level code."),
    tlp: list[str] | None = typer.Option(None, "--tlp", help="TLP marking code."),
    host_state_role: list[str] | None = typer.Option(None, "--host-state-role", help="Host-state role code."),
    date_from: str | None = typer.Option(
        None, "--date-from", help="Incidents ending on or after this day (YYYY-MM-DD)."
    ),
    date_to: str | None = typer.Option(
        None, "--date-to", help="Incidents starting on or before this day (YYYY-MM-DD)."
    ),
    q: str | None = typer.Option(None, "--q", help="Full-text search over title and summary (all words)."),
    bbox: str | None = typer.Option(None, "--bbox", help="Locations inside west,south,east,north (degrees)."),
    synthetic: bool | None = typer.Option(
        None, "--synthetic/--real", help="Only synthetic (demo) incidents, or only real ones. Default: both."
    ),
    sign: bool = typer.Option(
        False, "--sign", help="STIX with -o only: also write FILE.sig, signed with this node's sharing key."
    ),
) -> None:
    """Export the incidents that match the filters, in tnrwatch's own layout (CSV, XLSX, JSON), as GeoJSON, or as a
    STIX 2.1 bundle (with their actors and the pseudonyms of their persons; never an identity)."""
    with handle_errors():
        chosen = fmt or (_export_format_of(output) if output else None)
        if chosen not in exports.FORMATS:
            problem = f"{chosen!r} is not an export format" if chosen else "give --format, or -o FILE with an extension"
            raise InvalidInputError(
                "cannot tell the export format",
                [FieldError(("--format",), f"{problem}; formats: {', '.join(exports.FORMATS)}")],
            )
        if sign and (chosen != "stix" or output is None):
            raise InvalidInputError(
                "cannot sign this export",
                [FieldError(("--sign",), "signs STIX bundles written to a file: --format stix -o FILE")],
            )
        if output is None and chosen == "xlsx" and sys.stdout.isatty():
            raise InvalidInputError("XLSX is binary", [FieldError(("-o",), "write XLSX to a file with -o FILE.xlsx")])
        flt = _filter(
            {
                "origin": origin,
                "host": host,
                "tactic": tactic,
                "tactic_family": tactic_family,
                "target_category": target_category,
                "vulnerability": vulnerability,
                "verification": verification,
                "tlp": tlp,
                "host_state_role": host_state_role,
                "date_from": date_from,
                "date_to": date_to,
                "q": q,
                "bbox": bbox,
                "synthetic": synthetic,
            }
        )
        settings = load_settings()
        node = Node.open(settings)
        try:
            result = _export(node, flt, chosen, output)
        finally:
            node.close()
        signature = stix.write_signature(settings, output) if sign and output is not None else None
    where = f"to {output}" if output else "to standard output"
    err.print(f"exported {result.count} incidents as {result.format} {where}", highlight=False)
    if signature is not None:
        err.print(f"signed with this node's sharing key: {signature}", highlight=False)
    if result.synthetic:
        err.print("note: the export holds synthetic (demo) incidents; every format marks them", highlight=False)


def _export_format_of(path: Path) -> str | None:
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in exports.FORMATS else None


def _export(node: Node, flt: IncidentFilter, fmt: str, output: Path | None) -> exports.ExportResult:
    with _progress_bar() as bar:
        task = bar.add_task(f"exporting {fmt}", total=None)

        def advance(written: int, total: int) -> None:
            bar.update(task, completed=written, total=total)

        if output is None:
            return exports.export_incidents(node, Principal.operator(), flt, fmt, sys.stdout.buffer, advance)
        # Write next to the target and rename at the end, so that a failed export leaves no half-written file.
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as sink:
                result = exports.export_incidents(node, Principal.operator(), flt, fmt, sink, advance)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
        return result
