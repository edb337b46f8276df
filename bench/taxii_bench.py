"""TAXII 2.1 `objects` throughput: taxii2-client paging through one collection of our server, next to the floor (the
same objects read from the store and turned into the same JSON pages in one process, no HTTP), and next to the OASIS
reference server medallion 3.0.0 on a smaller collection where it still answers.

Our side: a real `tnrwatch serve` subprocess (uvicorn, one worker, loopback) on a fresh SQLite home (WAL,
synchronous=NORMAL, logs at warning, no embedded worker or scheduled jobs), one partner `bench` (clearance GREEN,
`tnrwatch partners add` and `partners token`), and synthetic STIX 2.1 `incident` objects shaped like the ones
interop/stix.py writes (tnrwatch's extension with tactics, countries, a location; a GREEN marking; ~1 KB each),
stored with services/taxii.py `add_objects`: N objects in the community collection, the first P of them again in the
partner's own collection for the comparison with medallion.

The client is taxii2-client 2.3.0 (`Collection.get_objects` under `as_pages`, HTTP Basic with the partner's name and
token), in this process; every run checks that it got every object once, in order. Both floors read the same rows
from the same SQLite file in this process, page by page with the server's page size and keyset (date_added, id):
  - "rows + join": the stored JSON texts joined into the page's envelope (what the server does, without HTTP and
    without anyone parsing the result);
  - "rows + parse + dump": each object parsed and the envelope dumped with json (what a server that keeps objects as
    data, not text, would do).

medallion 3.0.0 runs in its own venv (bench/out/medallion-venv: medallion==3.0.0 and the Flask stack it resolved
when this was written, pinned below) with its memory backend loaded from a data file holding the same P objects and
their manifest, started as its own command (`medallion --host 127.0.0.1 --port PORT config.json`, Flask's server),
`max_page_size` set to the same page size and its paging session timeout raised to an hour (its `next` is stateful:
pages are popped from a list kept in memory for 30 s by default). Its users live in plain text in the config file.

    python bench/taxii_bench.py [--objects 100000] [--peer-objects 8000] [--page-size 1000] [--rounds 3]
                                [--no-medallion]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
import venv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select, tuple_
from taxii2client.v21 import Collection, as_pages

from common import OUT, TNRWATCH, machine, markdown_table, tnrwatch, tnrwatch_env
from tnrwatch.domain.sharing import LOCAL
from tnrwatch.services import taxii
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings
from tnrwatch.store.models import StixObject

WORK = OUT / "taxii"
PARTNER = "bench"
MEDALLION_VENV = OUT / "medallion-venv"
MEDALLION_PINS = (
    "medallion==3.0.0",
    "flask==3.1.3",
    "flask-httpauth==4.8.1",
    "werkzeug==3.1.9",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    "itsdangerous==2.2.0",
    "click==8.5.1",
    "blinker==1.9.0",
    "pytz==2026.6",
    "six==1.17.0",
)
MEDALLION_USER, MEDALLION_PASSWORD = "bench", "bench-password"  # a throwaway peer on loopback
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
EXTENSION = "extension-definition--0886c93a-a8a0-431d-903d-146e5762f5ac"
NODE_IDENTITY = "identity--5b0c2b6e-8a61-4a57-9f0f-0f6c5d7e6a11"
TACTICS = ("abduction", "assault", "threats_to_family", "online_harassment", "spyware", "interpol_abuse", "deportation")
COUNTRIES = ("TR", "DE", "FR", "UZ", "RU", "CN", "IR", "EG", "RW", "BY", "TJ", "SA")


def synthetic_objects(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """`count` STIX incident objects like interop/stix.py's, deterministic for a seed."""
    rng = random.Random(seed)
    start = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    objects = []
    for n in range(count):
        created = start + dt.timedelta(minutes=rng.randrange(3_000_000))
        stamp = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        host, origin = rng.sample(COUNTRIES, 2)
        objects.append(
            {
                "type": "incident",
                "spec_version": "2.1",
                "id": f"incident--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created_by_ref": NODE_IDENTITY,
                "created": stamp,
                "modified": stamp,
                "name": f"Incident {n}: {rng.choice(TACTICS).replace('_', ' ')} of a diaspora activist",
                "object_marking_refs": [GREEN],
                "extensions": {
                    EXTENSION: {
                        "extension_type": "property-extension",
                        "taxonomy_version": "1.0.0",
                        "tactics": sorted(rng.sample(TACTICS, 2)),
                        "tactic_families": ["physical", "coercion_by_proxy"],
                        "origin_countries": [origin],
                        "host_countries": [host],
                        "locations": [{"country": host, "geo_precision": "admin1", "admin1": f"{host}-{n % 40:02d}"}],
                        "target_categories": ["activist", "journalist"][: 1 + n % 2],
                        "date_start": created.date().isoformat(),
                        "date_precision": "day",
                        "verification": rng.choice(["reported", "corroborated", "verified"]),
                        "host_state_role": "passive",
                        "mass_event": False,
                        "target_count": 1 + n % 3,
                    }
                },
            }
        )
    return objects


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, auth: tuple[str, str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            response = requests.get(url, auth=auth, headers={"Accept": "application/taxii+json;version=2.1"}, timeout=5)
            if response.status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str] | None, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# -- our server --------------------------------------------------------------------------------------------------------


@dataclass
class Ours:
    home: Path
    objects: list[dict[str, Any]]
    peer_objects: int
    port: int = field(default_factory=_free_port)
    token: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = tnrwatch_env(self.home)
        env.update(TNRWATCH_WORKER="off", TNRWATCH_SCHEDULED_MINUTES="0", TNRWATCH_MAP_COPY="false")
        return env

    def prepare(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        tnrwatch(["db", "upgrade"], self.env)
        tnrwatch(["partners", "add", PARTNER, "--clearance", "green"], self.env)
        self.token = tnrwatch(["partners", "token", PARTNER], self.env).strip()
        node = Node.open(Settings(home=self.home, sqlite_synchronous="NORMAL"))
        try:
            started = time.perf_counter()
            with node.store.writing() as session:
                taxii.add_objects(session, "community", self.objects, "green", LOCAL)
                taxii.add_objects(
                    session, taxii.partner_collection(PARTNER), self.objects[: self.peer_objects], "green", LOCAL
                )
            print(
                f"taxii: stored {len(self.objects):,} objects in {time.perf_counter() - started:.1f} s", file=sys.stderr
            )
        finally:
            node.close()

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        args = [str(TNRWATCH), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        with running(args, self.env, self.home / "serve.log") as process:
            url = f"http://127.0.0.1:{self.port}/taxii2/"
            _wait_for(url, process, self.home / "serve.log", (PARTNER, self.token), 60)
            yield url

    def collection_url(self, base: str, key: str) -> str:
        return f"{base}api/collections/{taxii.collection_id('tnrwatch node', key)}/"


def page_through(url: str, user: str, password: str, page_size: int, expected: list[str], **filters: str) -> float:
    """Seconds taxii2-client takes to page through the collection at `url`; checks it got `expected`, in order."""
    collection = Collection(url, user=user, password=password)
    started = time.perf_counter()
    got: list[str] = []
    for envelope in as_pages(collection.get_objects, per_request=page_size, **filters):
        got += [obj["id"] for obj in envelope.get("objects", [])]
    elapsed = time.perf_counter() - started
    collection.close()
    if got != expected:
        raise RuntimeError(f"paging returned {len(got):,} objects, not the {len(expected):,} expected in order")
    return elapsed


# -- the floors --------------------------------------------------------------------------------------------------------


def floor(home: Path, key: str, page_size: int, parse: bool, keep: list[str] | None = None) -> tuple[float, int]:
    """Seconds to read every row of the collection page by page (keyset on date_added, id) and make each page's JSON
    envelope: by joining the stored texts, or (`parse`) by parsing each object and dumping the envelope. The pages
    are appended to `keep` when it is given."""
    node = Node.open(Settings(home=home, sqlite_synchronous="NORMAL"))
    try:
        started = time.perf_counter()
        count = 0
        after: tuple[dt.datetime, int] | None = None
        with node.store.reading() as session:
            while True:
                statement = select(StixObject.id, StixObject.date_added, StixObject.body).where(
                    StixObject.collection == key
                )
                if after is not None:
                    statement = statement.where(tuple_(StixObject.date_added, StixObject.id) > tuple_(*after))
                rows = session.execute(
                    statement.order_by(StixObject.date_added, StixObject.id).limit(page_size + 1)
                ).all()
                more = len(rows) > page_size
                rows = rows[:page_size]
                if parse:
                    page = json.dumps({"more": more, "objects": [json.loads(row.body) for row in rows]})
                else:
                    page = '{"more":' + ("true" if more else "false") + ',"objects":[' + ",".join(r.body for r in rows)
                    page += "]}"
                count += len(rows) if page else 0
                if keep is not None:
                    keep.append(page)
                if not more:
                    break
                after = (rows[-1].date_added, rows[-1].id)
        return time.perf_counter() - started, count
    finally:
        node.close()


def client_bound(pages: list[str]) -> float:
    """Seconds the client's JSON parser (requests' `json()`: simplejson here, as installed) takes over the pages
    alone: what taxii2-client spends on every object whatever the server, and so a bound on any server's rate."""
    started = time.perf_counter()
    for page in pages:
        requests.compat.json.loads(page)
    return time.perf_counter() - started


# -- medallion ---------------------------------------------------------------------------------------------------------


def ensure_medallion() -> Path:
    """medallion 3.0.0 in its own venv, made once and reused while its pins match; its command."""
    marker = MEDALLION_VENV / ".pins"
    command = MEDALLION_VENV / "bin" / "medallion"
    wanted = "\n".join(MEDALLION_PINS)
    if marker.exists() and marker.read_text() == wanted and command.exists():
        return command
    print(f"taxii: creating medallion's venv in {MEDALLION_VENV}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(MEDALLION_VENV)
    python = MEDALLION_VENV / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *MEDALLION_PINS], check=True)
    marker.write_text(wanted)
    return command


def medallion_files(folder: Path, objects: list[dict[str, Any]], page_size: int, port: int) -> tuple[Path, str]:
    """The memory backend's data file with one collection holding `objects` (and their manifest), and the config."""
    folder.mkdir(parents=True, exist_ok=True)
    collection_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "tnrwatch bench medallion"))
    added = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    manifest = [
        {
            "id": obj["id"],
            "date_added": (added + dt.timedelta(microseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "version": obj["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for n, obj in enumerate(objects)
    ]
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "bench", "description": "", "default": root, "api_roots": [root]},
        "api1": {
            "information": {
                "title": "bench",
                "description": "",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 100_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": collection_id,
                    "title": "bench",
                    "description": "",
                    "can_read": True,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }
    data_file = folder / "data.json"
    data_file.write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_file),
            "session_timeout": 3600,
        },
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": page_size},
    }
    config_file = folder / "config.json"
    config_file.write_text(json.dumps(config))
    return config_file, f"{root}collections/{collection_id}/"


# -- the run -----------------------------------------------------------------------------------------------------------


def timed(rounds: int, run: Callable[[], float]) -> list[float]:
    return [run() for _ in range(rounds)]


def rate(count: int, seconds: list[float]) -> float:
    return count / statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--peer-objects", type=int, default=8_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-medallion", action="store_true")
    args = parser.parse_args()
    started_at = dt.datetime.now(dt.UTC)
    about = machine()

    objects = synthetic_objects(args.objects)
    sizes = [len(json.dumps(obj, separators=(",", ":"))) for obj in objects[:1000]]
    ours = Ours(WORK / "home", objects, min(args.peer_objects, args.objects))
    ours.prepare()
    all_ids = [obj["id"] for obj in objects]
    peer_ids = all_ids[: ours.peer_objects]
    port = _free_port()
    config, collection_url = medallion_files(WORK / "medallion", objects[: ours.peer_objects], args.page_size, port)
    # The objects are on disk now. Keeping them in this process (the client's) would only make Python's garbage
    # collector walk them while the client parses pages: drop them, and freeze what is left out of the collector.
    ours.objects = objects = []
    gc.collect()
    gc.freeze()

    results: dict[str, list[float]] = {}
    with ours.serving() as base:
        community = ours.collection_url(base, "community")
        own = ours.collection_url(base, taxii.partner_collection(PARTNER))
        page_through(community, PARTNER, ours.token, args.page_size, all_ids)  # warm-up: caches, connections
        results["ours"] = timed(
            args.rounds, lambda: page_through(community, PARTNER, ours.token, args.page_size, all_ids)
        )
        # Every object here has one version, so match[version]=all returns the same objects without the check
        # for later versions (a correlated index probe per row): what that check costs.
        results["ours, match[version]=all"] = timed(
            args.rounds, lambda: page_through(community, PARTNER, ours.token, args.page_size, all_ids, version="all")
        )
        results["ours, peer collection"] = timed(
            args.rounds, lambda: page_through(own, PARTNER, ours.token, args.page_size, peer_ids)
        )
    for name, parse in (("floor: rows + join", False), ("floor: rows + parse + dump", True)):
        floor(ours.home, "community", args.page_size, parse)  # warm-up
        runs = []
        for _ in range(args.rounds):
            seconds, count = floor(ours.home, "community", args.page_size, parse)
            if count != args.objects:
                raise RuntimeError(f"the floor read {count} rows")
            runs.append(seconds)
        results[name] = runs
    pages: list[str] = []
    floor(ours.home, "community", args.page_size, False, keep=pages)
    results["client bound: taxii2-client's JSON parsing alone"] = [client_bound(pages) for _ in range(args.rounds)]
    pages.clear()

    if not args.no_medallion:
        command = ensure_medallion()
        log = WORK / "medallion" / "medallion.log"
        with running([str(command), "--host", "127.0.0.1", "--port", str(port), str(config)], None, log) as process:
            _wait_for(f"http://127.0.0.1:{port}/taxii2/", process, log, (MEDALLION_USER, MEDALLION_PASSWORD), 120)
            results["medallion"] = [
                page_through(collection_url, MEDALLION_USER, MEDALLION_PASSWORD, args.page_size, peer_ids)
            ]  # one round: it takes minutes

    rows = []
    for name, runs in results.items():
        count = ours.peer_objects if name in ("medallion", "ours, peer collection") else args.objects
        rows.append([name, f"{count:,}", f"{statistics.median(runs):.2f} s", f"{rate(count, runs):,.0f}", len(runs)])
    print(f"## TAXII ({started_at:%Y-%m-%d %H:%M} UTC)\n")
    print(markdown_table(["", ""], [[key, value] for key, value in about.items()]))
    print(f"\nobjects of ~{statistics.mean(sizes):,.0f} bytes; page size {args.page_size}\n")
    print(markdown_table(["side", "objects", "median time", "objects/s", "runs"], rows))
    ours_rate = rate(args.objects, results["ours"])
    for name in (
        "floor: rows + join",
        "floor: rows + parse + dump",
        "client bound: taxii2-client's JSON parsing alone",
    ):
        print(f"\nours / {name}: {ours_rate / rate(args.objects, results[name]):.0%}")
    if "medallion" in results:
        ratio = rate(ours.peer_objects, results["ours, peer collection"]) / rate(
            ours.peer_objects, results["medallion"]
        )
        print(f"ours / medallion at {ours.peer_objects:,} objects: {ratio:,.0f}x")


if __name__ == "__main__":
    main()
