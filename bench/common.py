"""What the benchmarks share: paths, the tnrwatch command line, statistics and the machine description."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
CACHE = OUT / "cache"
TNRWATCH = Path(sys.executable).parent / "tnrwatch"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def tnrwatch_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment for a tnrwatch command on `home`: synchronous=NORMAL (as the benchmarks are reported), quiet
    logs, and no setting inherited from the caller's shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TNRWATCH_")}
    env.update(
        TNRWATCH_HOME=str(home),
        TNRWATCH_SQLITE_SYNCHRONOUS="NORMAL",
        TNRWATCH_LOG_LEVEL="warning",
    )
    if database_url:
        env["TNRWATCH_DATABASE_URL"] = database_url
    return env


def tnrwatch(args: Sequence[str], env: Mapping[str, str]) -> str:
    """Run the tnrwatch command line; return its stdout, or fail loudly with its stderr."""
    result = subprocess.run([str(TNRWATCH), *args], env=dict(env), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"tnrwatch {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def timed_tnrwatch(args: Sequence[str], env: Mapping[str, str]) -> float:
    """Seconds of wall-clock time that one tnrwatch command takes, from process start to exit."""
    started = time.perf_counter()
    tnrwatch(args, env)
    return time.perf_counter() - started


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile with linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of repeated measurements."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values), len(values))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """The machine the figures come from, for docs/benchmarks.md."""
    cpu = "unknown"
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with Path("/proc/meminfo").open() as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    os_name = platform.platform()
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "os": f"{os_name} (kernel {platform.release()})",
        "python": platform.python_version(),
        "sqlite (tnrwatch venv)": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def postgres_version() -> str:
    psql = shutil.which("psql")
    if psql is None:
        return "unknown (psql not found)"
    result = subprocess.run(
        [psql, POSTGRES_ADMIN_URL, "-Atc", "SHOW server_version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unreachable"


def fresh_database(work: Path, database: str, postgres_database: str) -> tuple[Path, str]:
    """An empty, migrated database for a benchmark: a SQLite file under `work`/`database`, or the PostgreSQL
    database `postgres_database` dropped and created again. Returns the home folder and the database address."""
    import psycopg

    from tnrwatch.store import migrate
    from tnrwatch.store.db import Store

    home = work / database
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if database == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {postgres_database} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {postgres_database}")
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{postgres_database}"
    else:
        url = f"sqlite:///{home / 'tnrwatch.sqlite3'}"
    store = Store(url)
    migrate.upgrade(store)
    store.dispose()
    return home, url
