"""`GET /api/v1/incidents` with filters and facets on a large SQLite database, side by side with its peers.

Sides, all over the same synthetic database (built once by bench/dataset.py):
- tnrwatch: `tnrwatch serve` (one worker, loopback), one HTTP request per search;
- Datasette 0.65.5 on the same file (loopback): its table facet API where it gives the same counts, `?sql=` for the
  rest, the page and the page's rows (bench/peer_sql.py says exactly which);
- DuckDB 1.5.5 in-process (bench/duckdb_worker.py): over the SQLite file through the sqlite scanner, and over a copy
  in DuckDB's own format (the floor).

Each side is warmed up, then the sides take turns, one search each, rotating who goes first, so that noise from other
work on the machine falls on all of them alike. Every answer (the page's incidents and every facet count) is checked
against tnrwatch's; the benchmark stops when any side answers differently. HTTP sides are timed by the client until it
holds the parsed JSON; DuckDB is timed inside its process from the first statement to the last row fetched.

    python bench/query_bench.py --incidents 1000000 --rounds 30
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote_plus

from common import OUT, TNRWATCH, markdown_table, percentile, tnrwatch_env
from dataset import DemoDatabase, api_token, demo_database
from peer_sql import SHAPES, PeerSql, QueryShape, datasette_requests, datasette_rows_path, peer_sql
from peers import PEERS_VENV, datasette_executable, ensure_peers_venv, peer_python
from tnrwatch.taxonomy import default_taxonomy

DATASETTE_SETTINGS = (
    ("sql_time_limit_ms", "60000"),
    ("facet_time_limit_ms", "60000"),
    ("max_returned_rows", "5000"),
    ("default_facet_size", "200"),
    ("suggest_facets", "off"),
)
WORKER = Path(__file__).resolve().parent / "duckdb_worker.py"

# One incident of a page, as compared across sides: uuid (hex), start date, origins, tactics, target categories,
# vulnerability flags, location countries (in order), number of sources, actor uuids, person uuids.
PageIncident = tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], int,
                     tuple[str, ...], tuple[str, ...]]  # fmt: skip


@dataclass(frozen=True)
class Answer:
    page: tuple[PageIncident, ...]
    facets: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]

    @classmethod
    def make(cls, page: Sequence[PageIncident], facets: Mapping[str, Sequence[tuple[Any, Any]]]) -> Answer:
        return cls(
            page=tuple(page),
            facets=tuple(
                (name, tuple(sorted((str(value), int(count)) for value, count in pairs if value is not None)))
                for name, pairs in sorted(facets.items())
            ),
        )

    def differences(self, other: Answer) -> list[str]:
        found = []
        if [row[0] for row in self.page] != [row[0] for row in other.page]:
            found.append("the page holds other incidents, or in another order")
        elif self.page != other.page:
            found.append("the page's incidents carry other codes, locations or links")
        mine, theirs = dict(self.facets), dict(other.facets)
        found += [
            f"facet {name}: {mine.get(name)} != {theirs.get(name)}" for name in mine if mine[name] != theirs.get(name)
        ]
        return found


def _page_from_rows(ids: Sequence[int], rows: Mapping[str, Sequence[Sequence[Any]]]) -> list[PageIncident]:
    """Rows of the page's tables (as bench/peer_sql.py selects them) -> the compared summary, in page order."""
    by_kind: dict[str, dict[int, list[Sequence[Any]]]] = {}
    for kind, kind_rows in rows.items():
        grouped = by_kind.setdefault(kind, {})
        for row in kind_rows:
            grouped.setdefault(int(row[0]), []).append(row)
    page = []
    for incident_id in ids:

        def codes(kind: str, incident_id: int = incident_id) -> tuple[str, ...]:
            return tuple(sorted(str(row[1]) for row in by_kind.get(kind, {}).get(incident_id, [])))

        [incident] = by_kind["incident"][incident_id]
        locations = sorted(by_kind.get("location", {}).get(incident_id, []), key=lambda row: int(row[1]))
        page.append(
            (
                str(incident[1]).replace("-", ""),
                str(incident[2])[:10],
                codes("origin"),
                codes("tactic"),
                codes("target"),
                codes("vulnerability"),
                tuple(str(row[2]) for row in locations),
                len(by_kind.get("source", {}).get(incident_id, [])),
                tuple(sorted(str(row[1]).replace("-", "") for row in by_kind.get("actor", {}).get(incident_id, []))),
                tuple(sorted(str(row[1]).replace("-", "") for row in by_kind.get("person", {}).get(incident_id, []))),
            )
        )
    return page


def _page_from_api(items: Sequence[Mapping[str, Any]]) -> list[PageIncident]:
    return [
        (
            item["id"].replace("-", ""),
            item["date_start"],
            tuple(sorted(item["origin_countries"])),
            tuple(sorted(item["tactics"])),
            tuple(sorted(item["target_categories"])),
            tuple(sorted(item["vulnerability_flags"])),
            tuple(location["country"] for location in item["locations"]),
            len(item["sources"]),
            tuple(sorted(link["id"].replace("-", "") for link in item["actors"])),
            tuple(sorted(link["id"].replace("-", "") for link in item["persons"])),
        )
        for item in items
    ]


class Side(Protocol):
    name: str

    def run(self, shape: QueryShape) -> tuple[float, Answer]:
        """Answer one search; return (seconds, answer)."""
        ...


class HttpClient:
    """One keep-alive connection; `get` returns the parsed JSON, failing on any status but 200."""

    def __init__(self, port: int, headers: Mapping[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.headers = dict(headers or {})

    def get(self, path: str) -> Any:
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection (uvicorn does after 5 s, and a round of the slower
            # sides takes longer): connect again, once. On loopback that costs a fraction of a millisecond.
            self.connection.close()
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path[:200]} answered {response.status}: {body[:500]!r}")
        return json.loads(body)


@dataclass
class TnrwatchSide:
    client: HttpClient
    name: str = "tnrwatch API"

    def run(self, shape: QueryShape) -> tuple[float, Answer]:
        started = time.perf_counter()
        body = self.client.get(shape.api_path())
        seconds = time.perf_counter() - started
        facets = {name: [(v["value"], v["count"]) for v in values] for name, values in body["facets"].items()}
        return seconds, Answer.make(_page_from_api(body["items"]), facets)


@dataclass
class DatasetteSide:
    client: HttpClient
    database: str
    sql: Mapping[str, PeerSql]
    name: str = "Datasette"

    def run(self, shape: QueryShape) -> tuple[float, Answer]:
        requests, union = datasette_requests(self.sql[shape.name], self.database)
        facets: dict[str, list[tuple[Any, Any]]] = {}
        ids: list[int] = []
        started = time.perf_counter()
        for request in requests:
            body = self.client.get(request.path)
            if request.purpose == "facets":
                for column, name in request.facet_columns.items():
                    result = body["facet_results"][column]
                    if result["truncated"]:
                        raise RuntimeError(f"Datasette truncated facet {name}: raise default_facet_size")
                    facets[name] = [(row["value"], row["count"]) for row in result["results"]]
            elif request.purpose == "page":
                ids = [row["id"] for row in body]
            else:
                facets[request.purpose.removeprefix("facet:")] = [(row["value"], row["count"]) for row in body]
        rows_body = self.client.get(datasette_rows_path(self.database, union, ids))
        seconds = time.perf_counter() - started
        rows: dict[str, list[Any]] = {}
        for row in rows_body:
            rows.setdefault(row["kind"], []).append(json.loads(row["data"]))
        return seconds, Answer.make(_page_from_rows(ids, rows), facets)


@dataclass
class DuckdbSide:
    process: subprocess.Popen[str]
    sql: Mapping[str, PeerSql]
    name: str

    def run(self, shape: QueryShape) -> tuple[float, Answer]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(self.sql[shape.name].plan()) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the DuckDB worker stopped (exit {self.process.poll()})")
        answer = json.loads(line)
        ids = [row[0] for row in answer["page"]]
        return answer["seconds"], Answer.make(_page_from_rows(ids, answer["children"]), answer["facets"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(process: subprocess.Popen[bytes], client: HttpClient, path: str, what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before serving")
        try:
            client.get(path)
            return
        except (ConnectionError, http.client.HTTPException, OSError):
            client.connection.close()
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start serving within two minutes")


@contextmanager
def _process(
    command: Sequence[str], log: Path, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process whose output goes to `log` (startup chatter; kept for when a server fails)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(list(command), env=dict(env) if env else None, stdout=sink, stderr=sink)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def tnrwatch_server(database: DemoDatabase) -> Iterator[TnrwatchSide]:
    port = free_port()
    token = api_token(database)
    command = [str(TNRWATCH), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with _process(command, OUT / "logs" / "tnrwatch-serve.log", tnrwatch_env(database.home)) as process:
        client = HttpClient(port, {"Authorization": f"Bearer {token}"})
        _wait_until_serving(process, client, "/api/v1/status", "tnrwatch serve")
        while client.get("/api/v1/status")["map_copy"] not in ("ready", "off"):  # its columnar copy, built at start
            time.sleep(0.5)
        yield TnrwatchSide(client)


@contextmanager
def datasette_server(database: DemoDatabase, sql: Mapping[str, PeerSql]) -> Iterator[DatasetteSide]:
    port = free_port()
    command = [str(datasette_executable()), "serve", str(database.sqlite_path), "-h", "127.0.0.1", "-p", str(port)]
    for name, value in DATASETTE_SETTINGS:
        command += ["--setting", name, value]
    with _process(command, OUT / "logs" / "datasette.log") as process:
        client = HttpClient(port)
        _wait_until_serving(process, client, "/-/versions.json", "datasette serve")
        yield DatasetteSide(client, database.sqlite_path.stem, sql)


def native_copy(database: DemoDatabase) -> Path:
    """DuckDB's own copy of the search tables, made once next to the SQLite file."""
    target = database.home / "duckdb-native.duckdb"
    if not target.exists():
        print(f"copying the tables into DuckDB's format: {target}", file=sys.stderr)
        command = [
            str(peer_python()),
            str(WORKER),
            "--sqlite",
            str(database.sqlite_path),
            "--build-native",
            str(target),
        ]
        subprocess.run(command, check=True)
    return target


@contextmanager
def duckdb_worker(
    database: DemoDatabase, sql: Mapping[str, PeerSql], mode: str, threads: int | None
) -> Iterator[DuckdbSide]:
    command = [str(peer_python()), str(WORKER), "--sqlite", str(database.sqlite_path), "--mode", mode]
    if mode == "native":
        command += ["--native", str(native_copy(database))]
    if threads:
        command += ["--threads", str(threads)]
    label = "DuckDB, SQLite file (scanner)" if mode == "scan" else "DuckDB, native copy"
    if threads:
        label += f", {threads} thread{'s' if threads > 1 else ''}"
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if not json.loads(process.stdout.readline() or "{}").get("ready"):
            raise RuntimeError("the DuckDB worker did not start")
        yield DuckdbSide(process, sql, label)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=60)


@dataclass
class ShapeResult:
    shape: QueryShape
    seconds: dict[str, list[float]] = field(default_factory=dict)
    matched: int = 0  # incidents the facets counted over (sum of the verification or year facet)


def measure(sides: Sequence[Side], shape: QueryShape, rounds: int, warmup: int) -> ShapeResult:
    """Warm each side, then `rounds` rounds of one search per side, rotating the order; every answer checked."""
    reference: Answer | None = None

    def checked(side: Side) -> float:
        nonlocal reference
        seconds, answer = side.run(shape)
        if reference is None:
            reference = answer
        problems = reference.differences(answer)
        if problems:
            raise AssertionError(f"{side.name} answers {shape.name} differently from tnrwatch: {problems[:3]}")
        return seconds

    result = ShapeResult(shape, {side.name: [] for side in sides})
    for side in sides:
        for _ in range(warmup):
            checked(side)
    for round_number in range(rounds):
        turn = round_number % len(sides)
        for side in [*sides[turn:], *sides[:turn]]:
            result.seconds[side.name].append(checked(side))
    assert reference is not None
    # Every matching incident has exactly one verification level and one year: their counts add up to the matches.
    whole = [pairs for name, pairs in reference.facets if name in ("verification", "year")]
    result.matched = sum(count for _, count in whole[0]) if whole else -1
    return result


def incident_columns(path: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[1] for row in connection.execute("PRAGMA table_info(incident)")]
    finally:
        connection.close()


def run(
    incidents: int, rounds: int, warmup: int, shapes: Sequence[str], duckdb_modes: Sequence[str], threads: int | None
) -> tuple[DemoDatabase, list[ShapeResult]]:
    ensure_peers_venv()
    database = demo_database(incidents)
    taxonomy = default_taxonomy()
    columns = incident_columns(database.sqlite_path)
    sql = {name: peer_sql(SHAPES[name], taxonomy, columns) for name in shapes}
    with ExitStack() as stack:
        sides: list[Side] = [stack.enter_context(tnrwatch_server(database))]
        for mode in duckdb_modes:
            sides.append(stack.enter_context(duckdb_worker(database, sql, mode, threads)))
        sides.append(stack.enter_context(datasette_server(database, sql)))
        results = []
        for name in shapes:
            print(f"query {name}: {rounds} rounds over {len(sides)} sides", file=sys.stderr)
            results.append(measure(sides, SHAPES[name], rounds, warmup))
    return database, results


def report(database: DemoDatabase, results: Sequence[ShapeResult]) -> str:
    """Markdown: per shape, p50/p95/min/max per side and the ratios tnrwatch / side."""
    parts = [f"SQLite database: {database.incidents:,} synthetic incidents (seed {database.seed})."]
    for result in results:
        shape = result.shape
        ours = result.seconds["tnrwatch API"]
        rows = []
        for name, values in result.seconds.items():
            ratio_50 = percentile(ours, 0.5) / percentile(values, 0.5)
            ratio_95 = percentile(ours, 0.95) / percentile(values, 0.95)
            rows.append(
                [
                    name,
                    f"{percentile(values, 0.5) * 1000:,.1f}",
                    f"{percentile(values, 0.95) * 1000:,.1f}",
                    f"{min(values) * 1000:,.1f} - {max(values) * 1000:,.1f}",
                    "1" if values is ours else f"{ratio_50:.2f}",
                    "1" if values is ours else f"{ratio_95:.2f}",
                ]
            )
        parts.append(
            f"**{shape.name}** ({shape.description}): `GET {shape.api_path()}` - "
            f"{result.matched:,} matching incidents, {len(ours)} requests per side\n\n"
            + markdown_table(
                ["side", "p50 ms", "p95 ms", "min - max ms", "tnrwatch / side (p50)", "tnrwatch / side (p95)"], rows
            )
        )
    return "\n\n".join(parts)


def show_requests(incidents: int, shapes: Sequence[str]) -> str:
    """What each side is sent for each shape, readable (URLs decoded), for docs/benchmarks.md."""
    database = demo_database(incidents)
    taxonomy = default_taxonomy()
    columns = incident_columns(database.sqlite_path)
    parts = []
    for name in shapes:
        sql = peer_sql(SHAPES[name], taxonomy, columns)
        requests, union = datasette_requests(sql, database.sqlite_path.stem)
        lines = [
            f"### {name}",
            "",
            f"tnrwatch: `GET {unquote_plus(SHAPES[name].api_path())}`",
            "",
            "DuckDB:",
            "",
            "```sql",
        ]
        lines += [f"{sql.page};"]
        lines += [f"{text};  -- facet {facet}" for facet, text in sql.facets.items()]
        lines += [f"{text};" for text in sql.children_sql().values()]
        lines += ["```", "", "Datasette, in this order:", ""]
        lines += [f"{i}. `GET {unquote_plus(r.path)}` ({r.purpose})" for i, r in enumerate(requests, 1)]
        rows_path = f"/{database.sqlite_path.stem}.json?sql={union}&_shape=array"
        lines.append(f"{len(requests) + 1}. `GET {rows_path}` (the page's rows; `{{ids}}` is the page's ids)")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000, help="Size of the synthetic database.")
    parser.add_argument("--rounds", type=int, default=30, help="Timed searches per side and shape.")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed searches per side and shape first.")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="Default: all.")
    parser.add_argument(
        "--duckdb",
        action="append",
        choices=("scan", "native"),
        help="DuckDB over the SQLite file (scan) and/or its own copy (native). Default: both.",
    )
    parser.add_argument("--duckdb-threads", type=int, help="DuckDB threads (default: one per core).")
    parser.add_argument("--show", action="store_true", help="Print what each side is sent, and exit.")
    args = parser.parse_args()
    if args.show:
        print(show_requests(args.incidents, args.shape or list(SHAPES)))
        return
    database, results = run(
        args.incidents,
        args.rounds,
        args.warmup,
        args.shape or list(SHAPES),
        args.duckdb or ["scan", "native"],
        args.duckdb_threads,
    )
    print(report(database, results))
    print(f"\npeers' venv: {PEERS_VENV}", file=sys.stderr)


if __name__ == "__main__":
    main()
