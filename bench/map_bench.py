"""The map's numbers (`GET /api/v1/map`) for random filters on a large SQLite database, side by side with its peers.

One map view is: the total, incidents by host country and by origin country (the choropleths), origin -> host pairs
(the flows), incidents per month and tactic family (the timeline), and three facets (tactic family, target category,
verification), where an incident counts once per value however many of its locations, origins or tactics give it that
value.

Sides, over the same synthetic database (bench/dataset.py):
- tnrwatch: `tnrwatch serve` (one worker, loopback; timing starts once its columnar copy, built in the background
  at start, is ready), one HTTP request per view;
- DuckDB 1.5.5 over a copy of the tables in its own format (bench/duckdb_worker.py), computing the same answers from
  the raw tables with plain SQL: the floor. Timed inside its process, from the first statement to the last row;
- Datasette 0.65.5 on the same SQLite file: its table facet API (`_facet=` with the filter as `_where=`) for the
  incident's own columns, `?sql=` for what its facets cannot express (counts over the link tables, pairs, months).

`--combos` filter combinations are drawn from a fixed seed: one to three of origin, host, tactic family, target
category, verification and a period, with values drawn among those present. Each side is warmed up, then the sides
take turns, rotating who goes first. Every answer is compared with tnrwatch's; the benchmark stops at any difference.

With `--browser`, also the time from navigation to a drawn map for the staff map page in Chromium (signed in).

    python bench/map_bench.py --incidents 1000000 --combos 20 --rounds 3 [--browser]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from common import OUT, TNRWATCH, machine, markdown_table, percentile, tnrwatch_env
from dataset import BENCH_USER, DemoDatabase, api_token, demo_database
from peers import datasette_executable, ensure_peers_venv, peer_python
from query_bench import DATASETTE_SETTINGS, WORKER, HttpClient, _process, _wait_until_serving, free_port, native_copy
from tnrwatch.taxonomy import default_taxonomy

FACETS = ("tactic_family", "target_category", "verification")
Counts = tuple[tuple[Any, ...], ...]  # sorted (key..., count) rows


@dataclass(frozen=True)
class Combo:
    """One filter: parameter -> values (the API's names)."""

    filters: tuple[tuple[str, tuple[str, ...]], ...]

    def label(self) -> str:
        return " ".join(f"{name}={','.join(values)}" for name, values in self.filters)

    def api_path(self) -> str:
        pairs = [(name, value) for name, values in self.filters for value in values]
        pairs += [("facets", name) for name in FACETS]
        return "/api/v1/map?" + urllib.parse.urlencode(pairs)


@dataclass(frozen=True)
class MapAnswer:
    total: int
    parts: tuple[tuple[str, Counts], ...]

    def differences(self, other: MapAnswer) -> list[str]:
        found = [] if self.total == other.total else [f"total {self.total} != {other.total}"]
        mine, theirs = dict(self.parts), dict(other.parts)
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                a, b = set(mine.get(name, ())), set(theirs.get(name, ()))
                found.append(f"{name}: only here {sorted(a - b)[:5]}, only there {sorted(b - a)[:5]}")
        return found


def answer(total: int, parts: Mapping[str, Sequence[Sequence[Any]]]) -> MapAnswer:
    cleaned = {
        name: tuple(sorted(tuple(int(v) if isinstance(v, float) else v for v in row) for row in rows if row[-1]))
        for name, rows in parts.items()
    }
    return MapAnswer(int(total), tuple(sorted(cleaned.items())))


# The peers' SQL, written from the questions (not from tnrwatch's statements) -----------------------------------------


def _quoted(values: Sequence[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def where_clause(combo: Combo, family_tactics: Mapping[str, Sequence[str]]) -> str:
    parts = []
    for name, values in combo.filters:
        if name == "origin":
            parts.append(f"id IN (SELECT incident_id FROM incident_origin WHERE country IN ({_quoted(values)}))")
        elif name == "host":
            parts.append(f"id IN (SELECT incident_id FROM incident_location WHERE country IN ({_quoted(values)}))")
        elif name == "tactic_family":
            tactics = [t for family in values for t in family_tactics[family]]
            parts.append(f"id IN (SELECT incident_id FROM incident_tactic WHERE tactic IN ({_quoted(tactics)}))")
        elif name == "target_category":
            parts.append(f"id IN (SELECT incident_id FROM incident_target WHERE category IN ({_quoted(values)}))")
        elif name == "verification":
            parts.append(f"verification IN ({_quoted(values)})")
        elif name == "date_from":
            parts.append(f"date_end >= '{values[0]}'")
        elif name == "date_to":
            parts.append(f"date_start <= '{values[0]}'")
        else:
            raise ValueError(name)
    return " AND ".join(parts) or "1 = 1"


def aggregate_sql(combo: Combo, dialect: str) -> dict[str, str]:
    """Every number of one map view as SQL over the raw tables, for DuckDB ("duckdb") or SQLite ("sqlite")."""
    taxonomy = default_taxonomy()
    family_tactics = {f.code: taxonomy.tactics_of_family(f.code) for f in taxonomy.tactic_families}
    family = "CASE tactic " + " ".join(f"WHEN '{t.code}' THEN '{t.family}'" for t in taxonomy.tactics) + " END"
    where = where_clause(combo, family_tactics)
    matching = f"(SELECT id FROM incident WHERE {where})"
    if dialect == "duckdb":
        year, month = "year(i.date_start)", "month(i.date_start)"
    else:
        year, month = "CAST(substr(i.date_start, 1, 4) AS INTEGER)", "CAST(substr(i.date_start, 6, 2) AS INTEGER)"
    return {
        "total": f"SELECT count(*) FROM incident WHERE {where}",
        "host": f"SELECT country, count(DISTINCT incident_id) FROM incident_location "
        f"WHERE incident_id IN {matching} GROUP BY country",
        "origin": f"SELECT country, count(*) FROM incident_origin WHERE incident_id IN {matching} GROUP BY country",
        "flows": "SELECT o.country AS origin, l.country AS host, count(DISTINCT o.incident_id) AS n "
        "FROM incident_origin o "
        "JOIN incident_location l ON l.incident_id = o.incident_id "
        f"WHERE o.incident_id IN {matching} GROUP BY o.country, l.country",
        "timeline": f"SELECT {year} AS y, {month} AS m, {family} AS family, count(DISTINCT i.id) AS n FROM incident i "
        f"JOIN incident_tactic t ON t.incident_id = i.id WHERE i.id IN {matching} "
        f"GROUP BY {year}, {month}, {family}",
        "tactic_family": f"SELECT {family} AS family, count(DISTINCT incident_id) FROM incident_tactic "
        f"WHERE incident_id IN {matching} GROUP BY family",
        "target_category": f"SELECT category, count(*) FROM incident_target "
        f"WHERE incident_id IN {matching} GROUP BY category",
        "verification": f"SELECT verification, count(*) FROM incident WHERE {where} GROUP BY verification",
    }


# Sides ------------------------------------------------------------------------------------------------------------


@dataclass
class TnrwatchMap:
    client: HttpClient
    name: str = "tnrwatch API"

    def run(self, combo: Combo) -> tuple[float, MapAnswer]:
        started = time.perf_counter()
        body = self.client.get(combo.api_path())
        seconds = time.perf_counter() - started
        parts: dict[str, list[tuple[Any, ...]]] = {
            "host": [(v["country"], v["count"]) for v in body["hosts"]],
            "origin": [(v["country"], v["count"]) for v in body["origins"]],
            "flows": [(f["origin"], f["host"], f["count"]) for f in body["flows"]],
            "timeline": [
                (int(m["month"][:4]), int(m["month"][5:7]), m["tactic_family"], m["count"]) for m in body["timeline"]
            ],
        }
        for name in FACETS:
            parts[name] = [(v["value"], v["count"]) for v in body["facets"][name]]
        return seconds, answer(body["total"], parts)


@dataclass
class DuckdbMap:
    process: Any
    name: str = "DuckDB, native copy"

    def run(self, combo: Combo) -> tuple[float, MapAnswer]:
        plan = {"page": "SELECT 0 WHERE false", "children": {}, "facets": aggregate_sql(combo, "duckdb")}
        self.process.stdin.write(json.dumps(plan) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the DuckDB worker stopped (exit {self.process.poll()})")
        found = json.loads(line)
        rows = found["facets"]
        total = rows.pop("total")[0][0]
        return found["seconds"], answer(total, rows)


@dataclass
class DatasetteMap:
    client: HttpClient
    database: str
    name: str = "Datasette"

    def run(self, combo: Combo) -> tuple[float, MapAnswer]:
        taxonomy = default_taxonomy()
        family_tactics = {f.code: taxonomy.tactics_of_family(f.code) for f in taxonomy.tactic_families}
        sql = aggregate_sql(combo, "sqlite")
        where = where_clause(combo, family_tactics)
        started = time.perf_counter()
        # Its facet API where a facet can say it: the incident's own column, filtered with `_where`; it also counts.
        facet = self.client.get(
            f"/{self.database}/incident.json?"
            + urllib.parse.urlencode({"_size": "0", "_facet": "verification", "_where": where})
        )
        parts: dict[str, list[Any]] = {
            "verification": [(r["value"], r["count"]) for r in facet["facet_results"]["verification"]["results"]]
        }
        if facet["facet_results"]["verification"]["truncated"]:
            raise RuntimeError("Datasette truncated a facet: raise default_facet_size")
        total = facet["filtered_table_rows_count"]
        for name, statement in sql.items():
            if name in ("total", "verification"):
                continue
            query = urllib.parse.urlencode({"sql": statement, "_shape": "array"})
            body = self.client.get(f"/{self.database}.json?{query}")
            parts[name] = [tuple(row.values()) for row in body]
        seconds = time.perf_counter() - started
        return seconds, answer(total, parts)


# Filters ----------------------------------------------------------------------------------------------------------


def draw_combos(database: DemoDatabase, count: int, seed: int) -> list[Combo]:
    """Random filters with values present in the data (the ten most frequent, or those of every incident's column)."""
    connection = sqlite3.connect(f"file:{database.sqlite_path}?mode=ro", uri=True)
    try:

        def common(sql: str) -> list[str]:
            return [row[0] for row in connection.execute(sql)]

        values = {
            "origin": common("SELECT country FROM incident_origin GROUP BY country ORDER BY count(*) DESC LIMIT 12"),
            "host": common("SELECT country FROM incident_location GROUP BY country ORDER BY count(*) DESC LIMIT 15"),
            "target_category": common("SELECT category FROM incident_target GROUP BY category"),
            "verification": common("SELECT verification FROM incident GROUP BY verification"),
        }
        first, last = connection.execute("SELECT min(date_start), max(date_start) FROM incident").fetchone()
    finally:
        connection.close()
    values["tactic_family"] = [f.code for f in default_taxonomy().tactic_families]
    rng = random.Random(seed)
    first_year, last_year = int(first[:4]), int(last[:4])
    combos = []
    while len(combos) < count:
        names = rng.sample([*values, "period"], rng.randint(1, 3))
        filters: list[tuple[str, tuple[str, ...]]] = []
        for name in sorted(names):
            if name == "period":
                start = rng.randint(first_year, last_year)
                end = rng.randint(start, min(last_year, start + 3))
                filters += [("date_from", (f"{start}-01-01",)), ("date_to", (f"{end}-12-31",))]
            else:
                filters.append((name, tuple(rng.sample(values[name], rng.choice((1, 1, 2))))))
        combo = Combo(tuple(filters))
        if combo not in combos:
            combos.append(combo)
    return combos


# Running ----------------------------------------------------------------------------------------------------------


@contextmanager
def tnrwatch_map_server(database: DemoDatabase) -> Iterator[tuple[TnrwatchMap, int]]:
    port = free_port()
    token = api_token(database)
    command = [str(TNRWATCH), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with _process(command, OUT / "logs" / "tnrwatch-map-serve.log", tnrwatch_env(database.home)) as process:
        client = HttpClient(port, {"Authorization": f"Bearer {token}"})
        _wait_until_serving(process, client, "/api/v1/status", "tnrwatch serve")
        yield TnrwatchMap(client), port


@contextmanager
def datasette_map_server(database: DemoDatabase) -> Iterator[DatasetteMap]:
    port = free_port()
    command = [str(datasette_executable()), "serve", str(database.sqlite_path), "-h", "127.0.0.1", "-p", str(port)]
    for name, value in DATASETTE_SETTINGS:
        command += ["--setting", name, value]
    with _process(command, OUT / "logs" / "datasette-map.log") as process:
        client = HttpClient(port)
        _wait_until_serving(process, client, "/-/versions.json", "datasette serve")
        yield DatasetteMap(client, database.sqlite_path.stem)


@contextmanager
def duckdb_map_worker(database: DemoDatabase) -> Iterator[DuckdbMap]:
    import subprocess

    command = [str(peer_python()), str(WORKER), "--sqlite", str(database.sqlite_path), "--mode", "native"]
    command += ["--native", str(native_copy(database))]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if not json.loads(process.stdout.readline() or "{}").get("ready"):  # type: ignore[union-attr]
            raise RuntimeError("the DuckDB worker did not start")
        yield DuckdbMap(process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=60)


@dataclass
class ComboResult:
    combo: Combo
    total: int = 0
    seconds: dict[str, list[float]] = field(default_factory=dict)


def measure(sides: Sequence[Any], combos: Sequence[Combo], rounds: int) -> list[ComboResult]:
    results = [ComboResult(combo) for combo in combos]
    for result in results:  # warm-up, and the answers checked once per combination before timing
        reference: MapAnswer | None = None
        for side in sides:
            _, found = side.run(result.combo)
            if reference is None:
                reference, result.total = found, found.total
            elif differences := reference.differences(found):
                raise SystemExit(f"{side.name} answers {result.combo.label()} differently: {differences}")
    for round_number in range(rounds):
        for index, result in enumerate(results):
            shift = (round_number + index) % len(sides)
            for side in [*sides[shift:], *sides[:shift]]:
                seconds, found = side.run(result.combo)
                if found.total != result.total:
                    raise SystemExit(f"{side.name}: total changed for {result.combo.label()}")
                result.seconds.setdefault(side.name, []).append(seconds)
        print(f"round {round_number + 1}/{rounds} done", file=sys.stderr)
    return results


def browser_first_render(database: DemoDatabase, port: int, path: str, runs: int = 5) -> list[float]:
    """Seconds from navigation to a drawn map (country shapes on the map and the timeline's canvas), signed in."""
    from playwright.sync_api import sync_playwright

    from tnrwatch.crypto import totp
    from tnrwatch.services import staff_auth
    from tnrwatch.services.node import Node
    from tnrwatch.services.policy import Principal
    from tnrwatch.settings import Settings

    password = "bench map password, long enough"  # noqa: S105 (a throwaway account in the benchmark's database)
    node = Node.open(Settings(home=database.home, database_url=database.url))
    operator = Principal.operator()
    # A new second factor each run: the account keeps its first one otherwise, and the secret is shown only once.
    enrolment = staff_auth.set_password(node, operator, BENCH_USER, password) or staff_auth.reset_totp(
        node, operator, BENCH_USER
    )
    node.close()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]  # fmt: skip
    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        base = f"http://127.0.0.1:{port}"
        page.goto(base + "/app/sign-in")
        page.fill("#username", BENCH_USER)
        page.fill("#password", password)
        page.fill("#code", totp.code_at(enrolment.secret, dt.datetime.now(dt.UTC)))
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/app/**")
        for _ in range(runs + 1):  # the first warms the browser's cache of the vendored scripts and shapes
            page.goto("about:blank")
            started = time.perf_counter()
            page.goto(base + path)
            # The script says "N incidents drawn ..." once the shapes, the colours and the flows are on the canvas.
            page.locator("#map-status", has_text="drawn").wait_for(timeout=120_000)
            page.locator("#timeline canvas").first.wait_for(state="attached", timeout=120_000)
            seconds.append(time.perf_counter() - started)
        browser.close()
    return seconds[1:]


def report(database: DemoDatabase, results: Sequence[ComboResult], sides: Sequence[str]) -> str:
    rows = []
    medians: dict[str, list[float]] = {side: [] for side in sides}
    for result in results:
        per_side = {side: statistics.median(result.seconds[side]) * 1000 for side in sides}
        for side in sides:
            medians[side].append(per_side[side])
        rows.append([result.combo.label(), f"{result.total:,}", *[f"{per_side[side]:,.0f}" for side in sides]])
    header = ["filter", "matching", *[f"{side}, ms" for side in sides]]
    summary = []
    for side in sides:
        values = medians[side]
        summary.append(
            [side, f"{percentile(values, 0.5):,.0f}", f"{percentile(values, 0.9):,.0f}", f"{max(values):,.0f}"]
        )
    ours = percentile(medians["tnrwatch API"], 0.5)
    floor = percentile(medians["DuckDB, native copy"], 0.5)
    datasette = percentile(medians["Datasette"], 0.5)
    return "\n\n".join(
        [
            f"{database.incidents:,} incidents ({database.sqlite_path.name}); machine: {json.dumps(machine())}",
            markdown_table(["side", "p50 ms (of per-filter medians)", "p90 ms", "max ms"], summary),
            f"tnrwatch / DuckDB floor at p50: **{ours / floor:.2f}x**; Datasette / tnrwatch at p50: "
            f"**{datasette / ours:.1f}x**",
            markdown_table(header, rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--combos", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time the map page's first render in Chromium")
    parser.add_argument("--browser-only", action="store_true", help="only the map page's first render")
    args = parser.parse_args()
    if args.browser_only:
        database = demo_database(args.incidents)
        with tnrwatch_map_server(database) as (ours, port):
            while ours.client.get("/api/v1/status")["map_copy"] != "ready":
                time.sleep(0.5)
            path = "/app/map?" + urllib.parse.urlencode({"origin": "CN", "date_from": "2020-01-01"})
            renders = browser_first_render(database, port, path)
        print(f"Browser, {path}: time to a drawn map (s), " + ", ".join(f"{s:.2f}" for s in renders))
        return
    ensure_peers_venv()
    database = demo_database(args.incidents)
    combos = draw_combos(database, args.combos, args.seed)
    with ExitStack() as stack:
        ours, port = stack.enter_context(tnrwatch_map_server(database))
        started = time.perf_counter()
        while ours.client.get("/api/v1/status")["map_copy"] != "ready":  # built in the background at start
            time.sleep(0.5)
        print(
            f"the server's columnar copy was ready {time.perf_counter() - started:.1f} s after it served",
            file=sys.stderr,
        )
        sides = [
            ours,
            stack.enter_context(duckdb_map_worker(database)),
            stack.enter_context(datasette_map_server(database)),
        ]
        results = measure(sides, combos, args.rounds)
        text = report(database, results, [side.name for side in sides])
        if args.browser:
            path = "/app/map?" + urllib.parse.urlencode({"origin": "CN", "date_from": "2020-01-01"})
            renders = browser_first_render(database, port, path)
            text += "\n\nBrowser, " + path + ": time to a drawn map (s), " + ", ".join(f"{s:.2f}" for s in renders)
            text += f"; median {statistics.median(renders):.2f} s"
    print(text)
    out = OUT / "map_bench.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
