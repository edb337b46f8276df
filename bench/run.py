"""Run the benchmarks and print their results as Markdown (what docs/benchmarks.md records, with machine and date).

`make bench` runs everything at the issue's sizes: 100,000 imported rows per database, searches over 1,000,000
incidents (the database is built once, ~4-5 minutes, and cached in bench/out/cache/). Smaller sizes for a quick look:

    python bench/run.py --only query --incidents 20000 --rounds 5
    python bench/run.py --only import --import-incidents 10000 --import-runs 1
    python bench/run.py --only intake --intake-seconds 5 --upload-mb 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time

import import_bench
import intake_bench
import query_bench
import query_profile
import wrk
from common import machine, markdown_table
from peer_sql import SHAPES
from peers import ensure_peers_venv, peer_versions

BENCHMARKS = ("import", "query", "profile", "intake")
NEED_PEERS = {"query", "profile"}  # the others compare tnrwatch with itself and need no peers' venv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="Run only these (repeatable).")
    parser.add_argument("--import-incidents", type=int, default=100_000, help="Rows in the imported CSV.")
    parser.add_argument("--import-runs", type=int, default=3, help="Imports per database.")
    parser.add_argument("--breakdown", action="store_true", help="Import: in-process runs by worker count, profile.")
    parser.add_argument("--incidents", type=int, default=1_000_000, help="Size of the database searched.")
    parser.add_argument("--rounds", type=int, default=30, help="Timed searches per side and query.")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed searches per side and query first.")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="Queries to run (default: all).")
    parser.add_argument("--experiments", action="store_true", help="Profile: also time the suggested SQL plan.")
    parser.add_argument("--intake-seconds", type=int, default=10, help="Intake: seconds per wrk run.")
    parser.add_argument("--intake-connections", type=int, default=32, help="Intake: wrk connections.")
    parser.add_argument("--intake-threads", type=int, default=1, help="Intake: wrk threads.")
    parser.add_argument("--upload-mb", type=int, action="append", help="Intake: attachment sizes (default 20, 200).")
    args = parser.parse_args()
    chosen = args.only or list(BENCHMARKS)
    shapes = args.shape or list(SHAPES)
    started = time.perf_counter()

    peers = bool(NEED_PEERS.intersection(chosen))
    if peers:
        ensure_peers_venv()
    print(f"# tnrwatch benchmarks, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"command: `python bench/run.py {shlex.join(sys.argv[1:])}`\n")
    facts = {**machine(), **(peer_versions() if peers else {})}
    print(markdown_table(["", ""], list(facts.items())))
    print("\nSQLite runs in WAL mode with synchronous=NORMAL (TNRWATCH_SQLITE_SYNCHRONOUS=NORMAL).", flush=True)

    if "import" in chosen:
        print(f"\n## Import: {args.import_incidents:,} incidents from our CSV\n", flush=True)
        csv = import_bench.demo_csv(args.import_incidents)
        backends = ["sqlite", "postgresql"]
        try:
            startup = {backend: import_bench.startup_seconds(backend, csv) for backend in backends}
            results = import_bench.time_imports(csv, args.import_incidents, backends, args.import_runs)
            print(f"CSV: {csv.stat().st_size / 1024**2:,.1f} MiB.\n")
            print(import_bench.report(results, startup), flush=True)
            if args.breakdown:
                for backend in backends:
                    for workers in (0, 1, 2):
                        seconds = import_bench.in_process_seconds(csv, backend, workers)
                        print(
                            f"\nin-process, {backend}, {workers} worker processes: {seconds:.1f} s "
                            f"({args.import_incidents / seconds:,.0f} rows/s)"
                        )
                for backend in backends:
                    print("\n" + import_bench.breakdown_report(csv, backend), flush=True)
        finally:
            import_bench.drop_postgres_database()

    if "query" in chosen:
        print(f"\n## Search: GET /api/v1/incidents at {args.incidents:,} incidents\n", flush=True)
        database, results = query_bench.run(
            args.incidents, args.rounds, args.warmup, shapes, ["scan", "native"], threads=None
        )
        print(f"The database was built in {database.build_seconds:,.0f} s (cached).\n")
        print(query_bench.report(database, results), flush=True)

    if "profile" in chosen:
        print(f"\n## Where tnrwatch's search time goes ({args.incidents:,} incidents)\n", flush=True)
        database = query_profile.demo_database(args.incidents)
        print(query_profile.breakdown(database, shapes, runs=5), flush=True)
        if args.experiments:
            print("\n" + query_profile.experiments(database, shapes, runs=5))
            print("\n" + query_profile.whole_table_experiments(database, runs=5))

    if "intake" in chosen:
        print("\n## Report intake: 4 KB sealed reports next to `/health`, and a large upload's memory\n", flush=True)
        load = wrk.Load(args.intake_threads, args.intake_connections, args.intake_seconds)
        print(intake_bench.report(intake_bench.run(load, args.upload_mb or [20, 200])), flush=True)

    print(f"\n(all benchmarks took {(time.perf_counter() - started) / 60:.1f} minutes)")


if __name__ == "__main__":
    main()
