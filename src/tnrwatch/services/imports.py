"""Import incidents from a file: our own CSV/XLSX/JSON layout, or any dataset through a mapping file.

The pipeline, batch by batch: read rows -> map (with a mapping) -> validate as `IncidentIn` -> prepare the rows to
write -> check ids and links -> insert. Everything happens in one write transaction: if any row is bad, the
transaction rolls back and `InvalidInputError` lists every bad row (file, row, field), so an import lands whole or
not at all. Only a few batches of rows and the errors are held in memory, plus the ids seen so far (to catch an id given
twice in one file).

Mapping, validating and preparing is pure work on one batch, and most of an import's time: for large files it runs
in worker processes (`ImportRequest.workers`), one batch each, while this process reads the file and writes what
they return, in file order.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tnrwatch.domain.incident import IncidentIn
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.layout import FORMAT_NAME, FORMAT_VERSION, cells_to_raw, column_errors, document_to_raw
from tnrwatch.interop.mapping import MappingEngine
from tnrwatch.interop.mapping_spec import locate_mapping
from tnrwatch.interop.readers import FORMATS, ReadOptions, Row, RowReader, format_of, open_rows
from tnrwatch.services import outbox
from tnrwatch.services.changes import record_change
from tnrwatch.services.incidents import link_errors, stamp
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.incidents import (
    PreparedIncident,
    Stamp,
    existing_incident_uuids,
    insert_prepared,
    prepare_incident,
    resolve_links,
)
from tnrwatch.store.models import Incident
from tnrwatch.taxonomy import Taxonomy

OnConflict = Literal["error", "skip"]
ON_CONFLICT: tuple[str, ...] = ("error", "skip")
BATCH_SIZE = 5000
WORKER_BATCH_SIZE = 1000  # smaller batches keep every worker busy and the pipeline short
PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # below this, starting worker processes costs more than it saves
MAX_LISTED_ROWS = 1000  # bad rows whose errors are listed; more are counted, so that memory stays bounded

ImportProgress = Callable[[int, int, int], None]
"""Called after each batch with (rows read, done, total); done and total are in the reader's unit (bytes, rows)."""


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    format: str | None = None  # csv, json or xlsx; default: from the file name, else from the mapping
    mapping: str | None = None  # a mapping file, or the name of a shipped one (freedom_house, uwazi)
    on_conflict: OnConflict = "error"
    synthetic: bool = False  # mark every imported incident synthetic (demo and training files)
    batch_size: int = BATCH_SIZE
    label: str | None = None  # how errors name the file; default: the path as given
    workers: int | None = None  # processes that validate; 0: none (all in this process); None: by file size and CPUs


@dataclass(frozen=True)
class ImportResult:
    file: str
    format: str
    mapping: str | None
    rows: int
    imported: int
    skipped: int  # rows a mapping's skip rules left out
    conflicts_skipped: int  # rows whose id already existed, with on_conflict="skip"


def import_file(
    node: Node, principal: Principal, request: ImportRequest, progress: ImportProgress | None = None
) -> ImportResult:
    require(principal, "incident:write")
    label = request.label or str(request.path)
    if request.on_conflict not in ON_CONFLICT:
        raise InvalidInputError(
            "unknown conflict rule", [FieldError(("on_conflict",), f"use one of: {', '.join(ON_CONFLICT)}")]
        )
    mapping = MappingEngine.load(locate_mapping(request.mapping), node.taxonomy) if request.mapping else None
    fmt = request.format or format_of(request.path) or (mapping.spec.format if mapping else None)
    if fmt not in FORMATS:
        given = f"{fmt!r} is not a format tnrwatch reads" if fmt else "the file name does not say the format"
        raise InvalidInputError(
            f"cannot tell how to read {label}", [FieldError((label,), f"{given}; give --format {'|'.join(FORMATS)}")]
        )
    options = mapping.read_options() if mapping else ReadOptions()
    with open_rows(request.path, fmt, options, label) as reader:
        _check_header(reader, fmt, mapping, label, options.header_row)
        checker = _RowChecker(node.taxonomy, fmt, mapping, request.synthetic)
        run = _ImportRun(node, principal, request, label, fmt)
        with node.store.writing() as session, _checked_batches(reader.rows(), checker, request) as checked:
            for batch in checked:
                run.process(session, batch)
                if progress is not None:
                    progress(run.rows, *reader.progress())
            run.finish(session)
    return ImportResult(
        file=label,
        format=fmt,
        mapping=mapping.spec.name if mapping else None,
        rows=run.rows,
        imported=run.imported,
        skipped=run.skipped,
        conflicts_skipped=run.conflicts_skipped,
    )


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _worker_count(request: ImportRequest) -> int:
    if request.workers is not None:
        return request.workers
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpus < 2 or request.path.stat().st_size < PARALLEL_FROM_BYTES:
        return 0
    return min(cpus - 1, 4)  # one core stays with this process, which reads and writes


class _checked_batches:  # noqa: N801 (used like a function, as a context manager)
    """Checked batches in file order, checked in this process or in worker processes. A context manager, so that
    workers stop whatever happens to the import."""

    def __init__(self, rows: Iterable[Row], checker: _RowChecker, request: ImportRequest) -> None:
        self._workers = _worker_count(request)
        self._rows = rows
        self._checker = checker
        self._request = request
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Iterator[_CheckedBatch]:
        if self._workers == 0:
            return (self._checker.check(batch) for batch in _batches(self._rows, self._request.batch_size))
        # spawn, not fork: the parent holds an open database connection and may run threads (the web server).
        self._pool = ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._checker,),
        )
        return self._pipelined(self._pool)

    def _pipelined(self, pool: ProcessPoolExecutor) -> Iterator[_CheckedBatch]:
        pending: deque[Future[_CheckedBatch]] = deque()
        size = min(self._request.batch_size, WORKER_BATCH_SIZE)
        for batch in _batches(self._rows, size):
            pending.append(pool.submit(_check_in_worker, batch))
            if len(pending) > 2 * self._workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


_worker_checker: _RowChecker | None = None


def _start_worker(checker: _RowChecker) -> None:
    global _worker_checker
    _worker_checker = checker
    # A worker allocates and frees millions of short-lived, acyclic objects: keep the cycle collector from scanning
    # the long-lived ones (modules, the taxonomy) again and again, and from running every few hundred allocations.
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)


def _check_in_worker(rows: list[Row]) -> _CheckedBatch:
    assert _worker_checker is not None, "the worker was started without a checker"
    return _worker_checker.check(rows)


def _check_header(reader: RowReader, fmt: str, mapping: MappingEngine | None, label: str, header_row: int) -> None:
    problems: list[tuple[str, str]] = []
    if reader.columns is not None:
        problems = mapping.column_errors(reader.columns) if mapping else column_errors(reader.columns)
    errors = [FieldError((label, header_row, column), message) for column, message in problems]
    if fmt == "json" and mapping is None:
        name, version = reader.meta.get("format", FORMAT_NAME), reader.meta.get("format_version", FORMAT_VERSION)
        if name != FORMAT_NAME:
            errors.append(
                FieldError(
                    (label, "format"),
                    f"{name!r} is not a tnrwatch export; a foreign dataset needs a mapping file (--mapping)",
                )
            )
        elif not isinstance(version, int) or version > FORMAT_VERSION:
            errors.append(
                FieldError(
                    (label, "format_version"),
                    f"version {version!r} is newer than this tnrwatch reads ({FORMAT_VERSION}); upgrade tnrwatch",
                )
            )
    if errors:
        raise InvalidInputError(f"{label} cannot be imported as it is; nothing was imported", errors)


@dataclass
class _CheckedBatch:
    """One batch after reading, mapping and validating, before anything touches the database."""

    rows: int = 0
    skipped: int = 0
    incidents: list[tuple[int, PreparedIncident]] = field(default_factory=list)
    rejected: list[tuple[int, list[FieldError]]] = field(default_factory=list)


@dataclass(frozen=True)
class _RowChecker:
    """Rows -> prepared incidents or errors. Pure (no database, no shared state), so it runs in worker processes."""

    taxonomy: Taxonomy
    fmt: str
    mapping: MappingEngine | None
    synthetic: bool

    def check(self, rows: list[Row]) -> _CheckedBatch:
        batch = _CheckedBatch(rows=len(rows))
        for row in rows:
            if row.problem is not None:
                batch.rejected.append((row.number, [FieldError((), row.problem)]))
                continue
            raw, problems = self._raw(row)
            if raw is None:
                batch.skipped += 1
                continue
            if self.synthetic:
                raw["synthetic"] = True
            result = try_validate(IncidentIn, raw, self.taxonomy)
            if isinstance(result, list):
                # A field the mapping already reported is also "required" to the model: say it once.
                reported = {error.loc for error in problems}
                problems += [self._with_columns(error) for error in result if error.loc not in reported]
            if problems:
                batch.rejected.append((row.number, problems))
            elif not isinstance(result, list):
                batch.incidents.append((row.number, prepare_incident(result)))
        return batch

    def _raw(self, row: Row) -> tuple[dict[str, Any] | None, list[FieldError]]:
        if self.mapping is not None:
            mapped = self.mapping.apply(row.cells)
            return mapped.raw, mapped.errors
        if self.fmt == "json":
            return document_to_raw(row.cells)
        return cells_to_raw(row.cells)

    def _with_columns(self, error: FieldError) -> FieldError:
        """Name the foreign columns behind a field, so that a mapped import's errors point into the file."""
        columns = self.mapping.columns_of(error.loc) if self.mapping else []
        if not columns:
            return error
        return FieldError(error.loc, f"{error.msg} (column {', '.join(repr(column) for column in columns)})")


@dataclass
class _ImportRun:
    """The database side of an import: ids, links, inserts, and the tally of rows and errors."""

    node: Node
    principal: Principal
    request: ImportRequest
    label: str
    fmt: str
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    conflicts_skipped: int = 0
    bad_rows: int = 0
    errors: list[FieldError] = field(default_factory=list)
    seen_ids: set[int] = field(default_factory=set)
    store_was_empty: bool | None = None
    _stamp: Stamp | None = None

    def process(self, session: Session, batch: _CheckedBatch) -> None:
        self.rows += batch.rows
        self.skipped += batch.skipped
        for number, problems in batch.rejected:
            self._reject(number, problems)
        candidates = self._check_ids(session, batch.incidents)
        links = resolve_links(session, [incident for _, incident in candidates])
        valid: list[PreparedIncident] = []
        for number, incident in candidates:
            problems = link_errors(incident, links)
            if problems:
                self._reject(number, problems)
            else:
                valid.append(incident)
        if valid and not self.bad_rows:  # once a row is bad, all will be rolled back: only keep checking
            self._stamp = self._stamp or stamp(self.node, self.principal)
            created = insert_prepared(session, valid, self._stamp, links)
            outbox.enqueue_many(session, "incident", "created", created)  # one statement per batch
            self.imported += len(valid)

    def _check_ids(
        self, session: Session, candidates: list[tuple[int, PreparedIncident]]
    ) -> list[tuple[int, PreparedIncident]]:
        if self.store_was_empty is None:
            self.store_was_empty = session.scalar(select(Incident.id).limit(1)) is None
        given = [incident.id for _, incident in candidates if incident.id is not None]
        # Into an empty store (the write transaction keeps others out), only an id repeated within the file can
        # clash, and seen_ids catches that: skip the lookups, a tenth of a large first import's time.
        existing = existing_incident_uuids(session, given) if given and not self.store_was_empty else set()
        kept = []
        for number, incident in candidates:
            if incident.id is not None:
                if incident.id.int in self.seen_ids:
                    self._reject(number, [FieldError(("id",), f"the id {incident.id} appears earlier in the file")])
                    continue
                self.seen_ids.add(incident.id.int)
                if incident.id in existing:
                    if self.request.on_conflict == "skip":
                        self.conflicts_skipped += 1
                    else:
                        message = f"an incident with id {incident.id} already exists (--on-conflict skip leaves it)"
                        self._reject(number, [FieldError(("id",), message)])
                    continue
            kept.append((number, incident))
        return kept

    def _reject(self, number: int, problems: list[FieldError]) -> None:
        self.bad_rows += 1
        if self.bad_rows <= MAX_LISTED_ROWS:
            self.errors += [FieldError((self.label, number, *error.loc), error.msg) for error in problems]

    def finish(self, session: Session) -> None:
        """Raise (rolling the transaction back) when any row was bad; else record the import."""
        if self.bad_rows:
            unit = "rows" if self.fmt != "json" else "items"
            listed = f"; the first {MAX_LISTED_ROWS} are listed" if self.bad_rows > MAX_LISTED_ROWS else ""
            raise InvalidInputError(
                f"{self.label}: {self.bad_rows} of {self.rows} {unit} are invalid{listed}; nothing was imported",
                sorted(self.errors, key=lambda error: error.loc[1]),  # by row: ids and links are checked later
            )
        record_change(
            session, self.principal, "import", "incident", count=self.imported, note=self.request.path.name[:300]
        )
