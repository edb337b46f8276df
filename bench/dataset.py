"""Synthetic SQLite databases for the benchmarks, built once with `tnrwatch demo seed` and kept under bench/out/cache/.

A database is built in a `.partial` folder and renamed when complete, so an interrupted build is never reused. Each
folder is a TNRWATCH_HOME (database, vault key) and holds `build.json`: how long seeding took, and the command.

    python bench/dataset.py --incidents 1000000     # build (or find) the cached database, print its path
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import CACHE, tnrwatch, tnrwatch_env

BENCH_USER = "bench-analyst"


@dataclass(frozen=True)
class DemoDatabase:
    home: Path
    incidents: int
    seed: int
    build_seconds: float

    @property
    def sqlite_path(self) -> Path:
        return self.home / "tnrwatch.sqlite3"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.sqlite_path}"


def demo_database(incidents: int, seed: int = 1) -> DemoDatabase:
    """The cached database of `incidents` synthetic incidents from `seed`; built first when missing."""
    home = CACHE / f"sqlite-{incidents}-seed{seed}"
    if not (home / "build.json").exists():
        _build(home, incidents, seed)
    info = json.loads((home / "build.json").read_text())
    return DemoDatabase(home=home, incidents=incidents, seed=seed, build_seconds=float(info["seed_seconds"]))


def _build(home: Path, incidents: int, seed: int) -> None:
    partial = home.with_name(home.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    env = tnrwatch_env(partial)
    tnrwatch(["db", "upgrade"], env)
    command = ["demo", "seed", "--incidents", str(incidents), "--seed", str(seed)]
    print(f"building {home.name}: tnrwatch {' '.join(command)} (about 3,000 incidents/s)", file=sys.stderr)
    started = time.perf_counter()
    tnrwatch(command, env)
    seconds = time.perf_counter() - started
    tnrwatch(["users", "add", BENCH_USER, "--role", "analyst"], env)
    _checkpoint(partial / "tnrwatch.sqlite3")
    info = {"seed_seconds": round(seconds, 1), "command": f"tnrwatch {' '.join(command)}", "synchronous": "NORMAL"}
    (partial / "build.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(home, ignore_errors=True)
    partial.rename(home)


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the database file, so that every reader starts from the same file."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def api_token(database: DemoDatabase) -> str:
    """A new API token for the benchmark's analyst account (the token is the last line of stdout)."""
    output = tnrwatch(["tokens", "create", BENCH_USER, "--name", "bench"], tnrwatch_env(database.home))
    return output.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    database = demo_database(args.incidents, args.seed)
    print(f"{database.sqlite_path} ({database.incidents:,} incidents, seeded in {database.build_seconds:,.0f} s)")


if __name__ == "__main__":
    main()
