"""`tnrwatch import` of a CSV in our own layout into a fresh SQLite and a fresh PostgreSQL database: rows per second.

The CSV is made once from the demo generator (seed a scratch SQLite database, `tnrwatch export --format csv`) and kept
under bench/out/cache/. About 40 percent of demo incidents link to synthetic actors; the CSV keeps those links, and
each target database gets the 216 synthetic actors first (through `services.actors`, untimed), so that the import
resolves and checks every actor link as a real import into a node would. Nothing is stripped from the file.

Each run starts from an empty database (`tnrwatch db upgrade`, then the actors) and times the whole
`tnrwatch import FILE` process, start to exit: reading, validation (in worker processes, as the command chooses for
files above 4 MB), link checks, inserts, the full-text index and the commit. SQLite runs with synchronous=NORMAL.

With `--breakdown`, the import also runs in-process (`services.imports.import_file`) with 0, 1 and 2 worker
processes, and once with none while timing its steps (validation, each table's inserts, the full-text index, ...).

    python bench/import_bench.py --incidents 100000 --runs 3 [--breakdown]
"""

from __future__ import annotations

import argparse
import csv as csv_module
import itertools
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.orm import SessionTransaction

from common import CACHE, OUT, POSTGRES_ADMIN_URL, Spread, markdown_table, timed_tnrwatch, tnrwatch, tnrwatch_env
from tnrwatch.services import actors, imports
from tnrwatch.services.demo import synthetic_actors
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.bulk import BulkWriter

POSTGRES_DATABASE = "tnrwatch_bench_import"
WORK = OUT / "import"


def demo_csv(incidents: int, seed: int = 1) -> Path:
    """The cached CSV of `incidents` demo incidents (our layout), made once through a scratch database."""
    target = CACHE / f"import-{incidents}-seed{seed}.csv"
    if target.exists():
        return target
    scratch = CACHE / f"import-{incidents}-seed{seed}.scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    env = tnrwatch_env(scratch)
    print(f"making {target.name}: demo seed --incidents {incidents} --seed {seed}, then export", file=sys.stderr)
    tnrwatch(["db", "upgrade"], env)
    tnrwatch(["demo", "seed", "--incidents", str(incidents), "--seed", str(seed)], env)
    partial = target.with_name(target.name + ".partial")
    tnrwatch(["export", "--format", "csv", "-o", str(partial)], env)
    partial.rename(target)
    shutil.rmtree(scratch)
    return target


@dataclass(frozen=True)
class Target:
    """A fresh database to import into: a SQLite file under its own home, or a PostgreSQL database."""

    backend: str
    home: Path
    url: str | None = None

    @property
    def env(self) -> dict[str, str]:
        return tnrwatch_env(self.home, self.url)

    def count_incidents(self) -> int:
        if self.url is None:
            connection = sqlite3.connect(self.home / "tnrwatch.sqlite3")
            try:
                return int(connection.execute("SELECT count(*) FROM incident").fetchone()[0])
            finally:
                connection.close()
        with psycopg.connect(self.url.replace("+psycopg", "")) as connection:
            row = connection.execute("SELECT count(*) FROM incident").fetchone()
            return int(row[0]) if row else 0


def _recreate_postgres_database() -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")


def drop_postgres_database() -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")


def fresh_target(backend: str) -> Target:
    """An empty, migrated database holding the synthetic actors the demo CSV links to."""
    home = WORK / backend
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    url = None
    if backend == "postgresql":
        _recreate_postgres_database()
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"
    target = Target(backend, home, url)
    tnrwatch(["db", "upgrade"], target.env)
    node = Node.open(_settings(target))
    try:
        for actor in synthetic_actors(node.taxonomy):
            actors.create_actor(node, Principal.operator(), actor)
    finally:
        node.close()
    return target


def _settings(target: Target) -> Settings:
    return Settings(home=target.home, database_url=target.url, sqlite_synchronous="NORMAL", log_level="warning")


@dataclass
class ImportResult:
    backend: str
    rows: int
    seconds: list[float] = field(default_factory=list)

    def rates(self) -> Spread:
        return Spread.of([self.rows / seconds for seconds in self.seconds])


def time_imports(csv: Path, rows: int, backends: list[str], runs: int) -> list[ImportResult]:
    """`runs` imports per backend, taking turns, each into a fresh database, each checked to hold every row."""
    results = {backend: ImportResult(backend, rows) for backend in backends}
    for run in range(runs):
        for backend in backends:
            target = fresh_target(backend)
            seconds = timed_tnrwatch(["import", str(csv)], target.env)
            imported = target.count_incidents()
            if imported != rows:
                raise AssertionError(f"{backend}: {imported} incidents after importing {rows}")
            print(f"import {backend} run {run + 1}: {seconds:.1f} s ({rows / seconds:,.0f} rows/s)", file=sys.stderr)
            results[backend].seconds.append(seconds)
    return list(results.values())


def startup_seconds(backend: str, csv: Path) -> float:
    """The fixed cost of one `tnrwatch import` (process start, imports, node, one tiny batch): a 10-row file."""
    small = WORK / "ten-rows.csv"
    small.parent.mkdir(parents=True, exist_ok=True)
    with csv.open(encoding="utf-8", newline="") as source, small.open("w", encoding="utf-8", newline="") as sink:
        csv_module.writer(sink).writerows(itertools.islice(csv_module.reader(source), 11))
    target = fresh_target(backend)
    return timed_tnrwatch(["import", str(small)], target.env)


def report(results: list[ImportResult], startup: dict[str, float]) -> str:
    rows = []
    for result in results:
        rates = result.rates()
        seconds = Spread.of(result.seconds)
        rows.append(
            [
                result.backend,
                f"{result.rows:,}",
                f"{seconds.median:.1f} ({seconds.low:.1f} - {seconds.high:.1f})",
                f"**{rates.median:,.0f}**",
                f"{rates.low:,.0f} - {rates.high:,.0f}",
                f"{startup.get(result.backend, float('nan')):.2f}",
            ]
        )
    return markdown_table(
        ["database", "rows", "seconds, median (min - max)", "rows/s, median", "rows/s, min - max", "10-row import s"],
        rows,
    )


@contextmanager
def _in_process_target(backend: str) -> Iterator[Node]:
    node = Node.open(_settings(fresh_target(backend)))
    try:
        yield node
    finally:
        node.close()


def in_process_seconds(csv: Path, backend: str, workers: int) -> float:
    with _in_process_target(backend) as node:
        request = imports.ImportRequest(path=csv, workers=workers)
        started = time.perf_counter()
        imports.import_file(node, Principal.operator(), request)
        return time.perf_counter() - started


class _Stopwatch:
    """Wraps functions so that their calls add up, by label; nested calls are not subtracted (none overlap here)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, label: Callable[..., str] | str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                name = label(*args, **kwargs) if callable(label) else label
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed


def cost_breakdown(csv: Path, backend: str) -> tuple[float, dict[str, float]]:
    """One in-process import without worker processes, with the main steps timed by wrapping the functions
    `services.imports` calls (nothing in src/ changes): returns the wall time and seconds per step."""
    watch = _Stopwatch()
    originals = {
        (imports, "cells_to_raw"): imports.cells_to_raw,
        (imports, "try_validate"): imports.try_validate,
        (imports, "prepare_incident"): imports.prepare_incident,
        (BulkWriter, "insert"): BulkWriter.insert,
        (BulkWriter, "index_full_text"): BulkWriter.index_full_text,
        (BulkWriter, "reserve_ids"): BulkWriter.reserve_ids,
        (SessionTransaction, "commit"): SessionTransaction.commit,
    }
    labels: dict[tuple[Any, str], Callable[..., str] | str] = {
        (imports, "cells_to_raw"): "CSV cells -> fields (interop.layout.cells_to_raw)",
        (imports, "try_validate"): "validation (pydantic IncidentIn with taxonomy codes)",
        (imports, "prepare_incident"): "validated incident -> row tuples (prepare_incident)",
        (BulkWriter, "insert"): lambda _writer, table, *_args, **_kwargs: f"INSERT executemany: {table}",
        (BulkWriter, "index_full_text"): "full-text index (INSERT ... SELECT per batch)",
        (BulkWriter, "reserve_ids"): "id reservation",
        (SessionTransaction, "commit"): "COMMIT",
    }
    with _in_process_target(backend) as node:  # made before the wrapping: its 216 actor commits are not counted
        for (owner, name), function in originals.items():
            setattr(owner, name, watch.wrap(labels[(owner, name)], function))
        try:
            started = time.perf_counter()
            imports.import_file(node, Principal.operator(), imports.ImportRequest(path=csv, workers=0))
            wall = time.perf_counter() - started
        finally:
            for (owner, name), function in originals.items():
                setattr(owner, name, function)
    return wall, watch.seconds


def breakdown_report(csv: Path, backend: str) -> str:
    wall, seconds = cost_breakdown(csv, backend)
    inserts = {label: value for label, value in seconds.items() if label.startswith("INSERT")}
    steps = [(label, value) for label, value in seconds.items() if not label.startswith("INSERT")]
    steps.append(("INSERT executemany, all tables (" + ", ".join(
        f"{label.removeprefix('INSERT executemany: ')} {value:.1f}" for label, value in
        sorted(inserts.items(), key=lambda item: -item[1])) + ")", sum(inserts.values())))  # fmt: skip
    steps.sort(key=lambda item: -item[1])
    steps.append(("the rest: reading the file, link checks, bookkeeping, Python around the inserts",
                  wall - sum(seconds.values())))  # fmt: skip
    rows = [[label, f"{value:.1f}", f"{value / wall:.0%}"] for label, value in steps]
    rows.append([f"**import, in-process, no worker processes ({backend})**", f"**{wall:.1f}**", "100%"])
    return markdown_table(["step", "s", "share"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000, help="Rows in the CSV.")
    parser.add_argument("--runs", type=int, default=3, help="Imports per database.")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"), help="Default: both.")
    parser.add_argument("--breakdown", action="store_true", help="Also time in-process with 0/1/2 workers, profile.")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    csv = demo_csv(args.incidents)
    try:
        startup = {backend: startup_seconds(backend, csv) for backend in backends}
        results = time_imports(csv, args.incidents, backends, args.runs)
        print(f"CSV: {csv.name}, {csv.stat().st_size / 1024**2:,.1f} MiB\n")
        print(report(results, startup))
        if args.breakdown:
            for backend in backends:
                for workers in (0, 1, 2):
                    seconds = in_process_seconds(csv, backend, workers)
                    rate = args.incidents / seconds
                    print(f"\nin-process, {backend}, {workers} worker processes: {seconds:.1f} s ({rate:,.0f} rows/s)")
            for backend in backends:
                print()
                print(breakdown_report(csv, backend))
    finally:
        if "postgresql" in backends:
            drop_postgres_database()


if __name__ == "__main__":
    main()
