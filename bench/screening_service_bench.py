"""Notice screening in the service, at registry scale: what a liaison waits for, on SQLite and on PostgreSQL.

bench/name_matching_bench.py times the matcher alone (domain/names.py, in memory). This one times the use cases
(services/screening.py, services/blind_index.py) on a real node: the registry imported through services/registry.py
(validated, sealed in the vault, inserted), then opened from the vault and indexed when notices are screened.

Per database, on a fresh migrated database (SQLite with synchronous=NORMAL, as the other benchmarks):
  - import: a JSON file of R synthetic registry entries (bench/make_name_pairs.py's generator, seed 11: native or
    Latin script, day-precision dates, one nationality, origin state = nationality, a focal point), timed
    `registry.import_registry`;
  - untimed setup: P persons with identities, each the target of one incident (origin = their nationality); N
    notices imported as one JSON batch (a tenth are Latin spellings of registry persons, as synthetic_subject in
    bench/name_matching_bench.py draws notices; a twentieth are then decided do_not_act, the earlier refusals);
  - screening, as the liaison: the first `screen_notice` in the process, a second one (another notice), the median
    of the next ten, `screen_all` over the undecided notices, then one registry entry added and the next
    `screen_notice` (what a change costs);
  - the partner blind-index query (`ScreeningDesk.query`, a registered partner with the exported key): the first
    query (builds the index) and the median of twenty repeated ones;
  - memory: a new process's resident memory before and after its first screening (what the opened registry costs
    while kept; before the cache, the same memory was taken only while a screening ran).

    python bench/screening_service_bench.py [--registry 100000] [--notices 1000] [--persons 1000]
                                            [--databases sqlite postgresql] [--cache-minutes 30]
                                            [--label after]

`--cache-minutes 0` turns the kept matchers off (TNRWATCH_SCREENING_CACHE_MINUTES=0): every screening opens and
indexes the registry again, as the code did before the cache. Sizes are arguments, so that a test could run it
small; it is not part of `make test`. Results: a Markdown table on
stdout and bench/out/screening_service-LABEL.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import OUT, POSTGRES_ADMIN_URL, machine, markdown_table
from make_name_pairs import CULTURES, Person, latin_name, native_name, new_person
from tnrwatch.crypto import blind_index as keys
from tnrwatch.domain import names
from tnrwatch.domain.sharing import PartnerView
from tnrwatch.services import blind_index, incidents, notices, partners, persons, registry, screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings

T = TypeVar("T")
POSTGRES_DATABASE = "tnrwatch_bench_screening"
WORK = OUT / "screening_service"
OPERATOR = Principal.operator()
LIAISON = Principal(account_id=None, username="bench-liaison", role="liaison")
PARTNER = PartnerView(name="bench-partner", clearance="amber", client=False)
FOCAL_POINTS = ("DE", "FR", "NL", "SE", "AT", "BE")
CATEGORIES = ("hrd", "journalist", "refugee", "asylum_seeker", "other")
CHARGES = ("Extremism", "Fraud on a large scale", "Participation in an unregistered organisation", "Theft")


@dataclass
class Result:
    database: str
    registry: int
    notices: int
    persons: int
    import_seconds: float = 0.0
    first_screen: float = 0.0
    second_screen: float = 0.0
    later_screen_median: float = 0.0
    screen_all_seconds: float = 0.0
    screen_all_sheets: int = 0
    screen_all_registry_matches: int = 0
    after_change_screen: float = 0.0
    partner_first: float = 0.0
    partner_repeated_median: float = 0.0
    rss_before_first_mib: float = 0.0
    rss_after_first_mib: float = 0.0
    cache_builds: dict[str, int] = field(default_factory=dict)


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


MEMORY_PROBE = r"""
import json, sys, uuid
from pathlib import Path
from tnrwatch.services import screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings

def resident_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

node = Node.open(Settings(home=sys.argv[1], database_url=sys.argv[2], map_copy=False, log_level="warning"))
liaison = Principal(account_id=None, username="bench-probe", role="liaison")
before = resident_mib()
screening.screen_notice(node, liaison, uuid.UUID(sys.argv[3]))
print(json.dumps({"before": before, "after": resident_mib()}))
node.close()
"""


def fresh_process_memory(home: Path, url: str, notice_id: uuid.UUID) -> tuple[float, float]:
    """A new process's resident memory (MiB) before and after its first screening: what the matchers it keeps
    cost, measured on a heap that holds nothing else (this process's heap is full of the data it generated)."""
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(home), url, str(notice_id)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    measured = json.loads(out)
    return float(measured["before"]), float(measured["after"])


def fresh_database(database: str) -> tuple[Path, str]:
    return common.fresh_database(WORK, database, POSTGRES_DATABASE)


def drop_database(database: str) -> None:
    if database == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")


# -- synthetic data --------------------------------------------------------------------------------------------------


def registry_record(rng: random.Random, person: Person) -> dict[str, Any]:
    """One registry entry: the native-script name or a Latin spelling, as name_matching_bench's registry side."""
    native = rng.random() < 0.5
    name = native_name(person) if native else latin_name(person, rng)
    return {
        "full_name": name,
        "other_names": [latin_name(person, rng)] if native and rng.random() < 0.3 else [],
        "date_of_birth": person.dob.isoformat(),
        "sex": person.sex,
        "nationalities": [person.nationality],
        "category": rng.choice(CATEGORIES),
        "origin_state": person.nationality,
        "focal_point": rng.choice(FOCAL_POINTS),
    }


def notice_record(rng: random.Random, person: Person, number: int) -> dict[str, Any]:
    """A red notice in Interpol's shape: a Latin spelling, a day- or year-precision date of birth."""
    forename, surname = latin_name(person, rng).rsplit(" ", 1)
    born = person.dob.strftime("%Y/%m/%d") if rng.random() < 2 / 3 else str(person.dob.year)
    return {
        "notice_type": "red_notice",
        "entity_id": f"2025/{number:05d}",
        "requesting_state": person.nationality,
        "forename": forename,
        "name": surname.upper(),
        "date_of_birth": born,
        "sex_id": person.sex,
        "nationalities": [person.nationality],
        "arrest_warrants": [{"issuing_country_id": person.nationality, "charge": rng.choice(CHARGES)}],
        "issued": "2025-05-02",
        "received": (dt.date(2025, 5, 10) + dt.timedelta(days=number % 200)).isoformat(),
    }


def write_json(path: Path, key: str, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({key: records}, ensure_ascii=False), encoding="utf-8")
    return path


def add_persons(node: Node, rng: random.Random, count: int) -> None:
    for _ in range(count):
        person = new_person(rng, rng.choice(CULTURES))
        made = persons.create_person(
            node,
            OPERATOR,
            {
                "identity": {
                    "full_name": native_name(person),
                    "date_of_birth": person.dob.isoformat(),
                    "nationalities": [person.nationality],
                }
            },
        )
        incidents.create_incident(
            node,
            OPERATOR,
            {
                "title": "Benchmark incident",
                "summary": "Made up for the benchmark.",
                "date_start": "2024-06-01",
                "date_precision": "day",
                "locations": [{"country": "DE", "geo_precision": "country"}],
                "origin_countries": [person.nationality],
                "tactics": ["abduction"],
                "target_categories": ["activist"],
                "verification": "reported",
                "tlp": rng.choice(("green", "amber", "red")),
                "persons": [{"id": str(made.id), "role": "target"}],
            },
        )


# -- the run ---------------------------------------------------------------------------------------------------------


def run(
    database: str, registry_size: int, notice_count: int, person_count: int, seed: int, cache_minutes: int
) -> Result:
    rng = random.Random(seed)
    result = Result(database, registry_size, notice_count, person_count)
    home, url = fresh_database(database)
    settings = Settings(
        home=home,
        database_url=url,
        sqlite_synchronous="NORMAL",
        map_copy=False,
        log_level="warning",
        screening_queries_per_hour=100_000,
        screening_queries_per_day=1_000_000,
        screening_cache_minutes=cache_minutes,
    )
    node = Node.open(settings)
    try:
        people = [new_person(rng, rng.choice(CULTURES)) for _ in range(registry_size)]
        entries = write_json(home / "registry.json", "registry", [registry_record(rng, p) for p in people])
        result.import_seconds, _ = timed(lambda: registry.import_registry(node, OPERATOR, entries, synthetic=True))
        print(f"{database}: registry of {registry_size:,} imported in {result.import_seconds:.1f} s", file=sys.stderr)

        add_persons(node, rng, person_count)
        subjects = [
            rng.choice(people) if rng.random() < 0.1 else new_person(rng, rng.choice(CULTURES))
            for _ in range(notice_count)
        ]
        batch = write_json(
            home / "notices.json", "notices", [notice_record(rng, p, n) for n, p in enumerate(subjects, start=1)]
        )
        notices.import_notices(node, OPERATOR, batch, synthetic=True)
        listed = notices.list_notices(node, LIAISON, limit=notice_count)
        ids = [notice.id for notice in listed]
        for notice_id in ids[: max(1, notice_count // 20)]:
            notices.decide(node, LIAISON, notice_id, {"decision": "do_not_act", "reasons": "benchmark"})
        undecided = ids[max(1, notice_count // 20) :]
        print(f"{database}: {person_count:,} persons and {notice_count:,} notices added", file=sys.stderr)

        names.clear_caches()
        result.first_screen, _ = timed(lambda: screening.screen_notice(node, LIAISON, undecided[0]))
        result.second_screen, _ = timed(lambda: screening.screen_notice(node, LIAISON, undecided[1]))
        later = [timed(lambda n=n: screening.screen_notice(node, LIAISON, n))[0] for n in undecided[2:12]]
        result.later_screen_median = statistics.median(later) if later else 0.0
        print(f"{database}: first {result.first_screen:.2f} s, second {result.second_screen:.2f} s", file=sys.stderr)

        result.screen_all_seconds, sheets = timed(lambda: screening.screen_all(node, LIAISON))
        result.screen_all_sheets = len(sheets)
        result.screen_all_registry_matches = sum(1 for sheet in sheets if sheet.registry_matches)
        print(f"{database}: screen_all {len(sheets):,} in {result.screen_all_seconds:.1f} s", file=sys.stderr)

        registry.add_entry(node, OPERATOR, registry_record(rng, new_person(rng, rng.choice(CULTURES))))
        result.after_change_screen, _ = timed(lambda: screening.screen_notice(node, LIAISON, undecided[0]))

        partners.add_partner(node, OPERATOR, PARTNER.name, PARTNER.clearance)
        key = keys.parse_export(blind_index.export_key(node, OPERATOR, PARTNER.name))
        desk = blind_index.ScreeningDesk(node)
        asked = [rng.choice(people) for _ in range(21)]
        digests = [blind_index.subject_digests(key, [latin_name(p, rng)], p.dob.year, [p.nationality]) for p in asked]
        result.partner_first, _ = timed(lambda: desk.query(PARTNER, key.key_id, digests[0]))
        repeated = [timed(lambda d=d: desk.query(PARTNER, key.key_id, d))[0] for d in digests[1:]]
        result.partner_repeated_median = statistics.median(repeated)
        result.cache_builds = _cache_builds(node)
        result.rss_before_first_mib, result.rss_after_first_mib = fresh_process_memory(home, url, undecided[0])
        return result
    finally:
        node.close()
        drop_database(database)


def _cache_builds(node: Node) -> dict[str, int]:
    """How many times each screening matcher was built in this process, where the node keeps such a count."""
    cache = getattr(node, "screening_cache", None)
    builds = getattr(cache, "builds", None)
    return dict(builds) if isinstance(builds, dict) else {}


def _uuid_default(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def report(results: Sequence[Result]) -> str:
    def s(seconds: float) -> str:
        return f"{seconds:,.2f} s" if seconds >= 0.1 else f"{seconds * 1000:,.1f} ms"

    rows = [
        [
            r.database,
            f"{r.registry:,} / {r.notices:,} / {r.persons:,}",
            s(r.import_seconds),
            s(r.first_screen),
            s(r.second_screen),
            s(r.later_screen_median),
            f"{s(r.screen_all_seconds)} ({r.screen_all_sheets:,} sheets, "
            f"{r.screen_all_registry_matches:,} with a match)",
            s(r.after_change_screen),
            f"{s(r.partner_first)} / {s(r.partner_repeated_median)}",
            f"{r.rss_before_first_mib:,.0f} -> {r.rss_after_first_mib:,.0f} MiB",
        ]
        for r in results
    ]
    header = [
        "database",
        "registry / notices / persons",
        "registry import",
        "1st screen_notice",
        "2nd screen_notice",
        "next 10 (median)",
        "screen_all",
        "screen_notice after a registry change",
        "partner query 1st / repeated",
        "a new process's RSS before / after its 1st screen_notice",
    ]
    return markdown_table(header, rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", type=int, default=100_000)
    parser.add_argument("--notices", type=int, default=1_000)
    parser.add_argument("--persons", type=int, default=1_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--cache-minutes", type=int, default=30, help="TNRWATCH_SCREENING_CACHE_MINUTES (0: open for every screening)"
    )
    parser.add_argument("--label", default="run")
    args = parser.parse_args(argv)
    if args.notices < 12:
        parser.error("--notices must be at least 12 (a twentieth are decided, then 1 + 1 + 10 are screened)")
    started = dt.datetime.now(dt.UTC)
    about = machine()
    results = [
        run(db, args.registry, args.notices, args.persons, args.seed, args.cache_minutes) for db in args.databases
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"screening_service-{args.label}.json"
    target.write_text(
        json.dumps(
            {
                "started": started.isoformat(timespec="seconds"),
                "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": " ".join(["python", "bench/screening_service_bench.py", *(argv or sys.argv[1:])]),
                "machine": about,
                "results": [asdict(r) for r in results],
            },
            indent=2,
            default=_uuid_default,
        )
    )
    print(report(results))
    print(f"\n({target})", file=sys.stderr)


if __name__ == "__main__":
    main()
