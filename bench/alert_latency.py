"""Alert latency: from an incident being marked verified to the webhook's arrival, with 10,000 subscriptions.

The node holds 10,000 active subscriptions of 100 staff accounts (40 EU analysts, 60 officers of six Member States):
saved searches mixing origins, hosts, tactics, target categories, topics and levels (the same generator as
tests/services/test_delivery.py), every one with its inbox, one in fifty with a webhook too. The webhooks point at a
receiver on loopback (http.server, threads) in this process, which checks every signature. One more subscription,
the probe (an analyst's, every incident, a webhook), is what the figure is read from; the time until every webhook of
the incident arrived is reported beside it.

50 incidents (the node's own, TLP:AMBER, random codes from the same pools) are made first and their "created" events
delivered before anything is timed. Then, one at a time, each is marked verified through the service
(`incidents.update_incident(..., {"verification": "verified"})`): the clock starts just before the call (so it
includes the write and its commit) and stops when the probe's webhook for that incident's "verified" event arrives.
A pause of 0.2-0.6 s (random) separates two incidents, so that no measurement rides on the previous one's wake-up.

The worker runs as in production:

- `worker`: `tnrwatch worker` as a separate process (TNRWATCH_WORKER_POLL_SECONDS=0.5, the default). On PostgreSQL the
  commit's NOTIFY wakes it at once; on SQLite it finds the event at its next look (up to half a second later).
- `embedded`: the worker thread inside this process, as `tnrwatch serve` runs it by default (TNRWATCH_WORKER=embedded);
  a commit in the same process wakes it at once, on either database.

    python bench/alert_latency.py [--database sqlite|postgresql] [--mode worker|embedded] [--incidents 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, select

import common
from common import OUT, POSTGRES_ADMIN_URL, TNRWATCH, machine, markdown_table, percentile, tnrwatch_env
from tnrwatch.crypto.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, BadSignatureError, verify
from tnrwatch.domain.sharing import SubscriptionFilter
from tnrwatch.services import accounts, incidents, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.worker import EmbeddedWorker
from tnrwatch.settings import Settings
from tnrwatch.store.models import Account, Delivery, OutboxEvent, Subscription
from tnrwatch.store.types import utcnow

WORK = OUT / "alert_latency"
POSTGRES_DATABASE = "tnrwatch_bench_alerts"
OPERATOR = Principal.operator()
ORIGINS = ["UZ", "RU", "CN", "TR", "IR", "BY", "RW", "ER", "SA", "EG", "TJ", "VN"]
HOSTS = ["DE", "FR", "NL", "SE", "TR", "GB", "PL", "BE", "IT", "ES", "AT", "CZ"]
TACTICS = ["abduction", "assault", "forced_return", "spyware", "family_threats", "online_harassment"]
TARGETS = ["activist", "journalist", "hrd", "dissident"]
JURISDICTIONS = ["DE", "FR", "NL", "SE", "PL", "BE"]


def random_filter(rng: random.Random) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, values in (("origins", ORIGINS), ("hosts", HOSTS), ("tactics", TACTICS)):
        if rng.random() < 0.45:
            found[name] = rng.sample(values, rng.randint(1, 3))
    if rng.random() < 0.2:
        found["target_categories"] = rng.sample(TARGETS, rng.randint(1, 2))
    if rng.random() < 0.3:
        found["topics"] = [rng.choice(["incident", "alert"])]
    if rng.random() < 0.1:
        found["levels"] = ["urgent"]
    return SubscriptionFilter.model_validate(found).model_dump(mode="json")


@dataclass
class Receiver:
    """Webhook arrivals by (subject, event): when each came, and whether the probe's did."""

    url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    arrivals: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    probe: dict[tuple[str, str], float] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # http.server's 5 drops connections a worker opens at once (the SYN is resent 1 s later)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.perf_counter()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                verify(
                    receiver.secrets.get(self.path, ""),
                    self.headers.get(TIMESTAMP_HEADER, ""),
                    self.headers.get(SIGNATURE_HEADER, ""),
                    body,
                )
                signed = True
            except BadSignatureError:
                signed = False
            self.send_response(200 if signed else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            notice = json.loads(body)
            key = (notice["subject_id"], notice["event"])
            with receiver.lock:
                if not signed:
                    receiver.bad_signatures += 1
                receiver.arrivals[key].append(arrived)
                if self.path == "/probe":
                    receiver.probe[key] = arrived
                receiver.lock.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = _Server(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def fresh_database(database: str) -> tuple[Path, str]:
    return common.fresh_database(WORK, database, POSTGRES_DATABASE)


def populate(node: Node, receiver: Receiver, count: int, webhook_share: float, rng: random.Random) -> int:
    """The accounts and `count` subscriptions (plus the probe); how many carry a webhook."""
    for n in range(100):
        officer = n >= 40
        accounts.add_account(
            node,
            OPERATOR,
            f"staff-{n}",
            "officer" if officer else "analyst",
            jurisdiction=JURISDICTIONS[n % len(JURISDICTIONS)] if officer else None,
        )
    with node.store.reading() as session:
        account_ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    probe_owner = accounts.authenticate(node, accounts.create_token(node, OPERATOR, "staff-0").token)
    made = subscriptions.create_subscription(
        node, probe_owner, {"name": "probe", "webhook_url": f"{receiver.url}/probe"}
    )
    receiver.secrets["/probe"] = made.webhook_secret or ""
    rows = []
    hooks = 0
    for n in range(count):
        webhook = rng.random() < webhook_share
        secret = None
        if webhook:
            hooks += 1
            secret = f"secret-{n}-{uuid.uuid4().hex}"
            receiver.secrets[f"/hook/{n}"] = secret
        rows.append(
            {
                "uuid": uuid.uuid4(),
                "account_id": account_ids[n % len(account_ids)],
                "name": f"search {n}",
                "filter": random_filter(rng),
                "inbox": True,
                "webhook_url": f"{receiver.url}/hook/{n}" if webhook else None,
                "webhook_secret": secret,
                "active": True,
                "created_at": utcnow(),
            }
        )
    with node.store.writing() as session:
        session.execute(insert(Subscription), rows)
    return hooks


def settled(node: Node) -> bool:
    with node.store.reading() as session:
        events = session.scalar(select(func.count()).where(OutboxEvent.done_at.is_(None))) or 0
        pending = session.scalar(select(func.count()).where(Delivery.status == "pending")) or 0
    return events == 0 and pending == 0


@contextmanager
def running_worker(mode: str, node: Node, home: Path, url: str) -> Iterator[None]:
    if mode == "embedded":
        worker = EmbeddedWorker(node)
        worker.start()
        try:
            yield
        finally:
            worker.stop()
        return
    env = tnrwatch_env(home, url)
    env["TNRWATCH_WORKER_POLL_SECONDS"] = "0.5"
    log = (home / "worker.log").open("ab")
    process = subprocess.Popen([str(TNRWATCH), "worker"], env=env, stdout=log, stderr=log)
    try:
        yield
    finally:
        process.terminate()
        process.wait(30)
        log.close()


@dataclass(frozen=True)
class Result:
    database: str
    mode: str
    subscriptions: int
    webhooks: int
    probe: list[float]  # seconds, per incident
    all_webhooks: list[float]
    matched_webhooks: list[int]
    bad_signatures: int


def run(database: str, mode: str, incident_count: int, subscription_count: int, seed: int = 1) -> Result:
    rng = random.Random(seed)
    home, url = fresh_database(database)
    settings = Settings(home=home, database_url=url, sqlite_synchronous="NORMAL", map_copy=False, log_level="warning")
    node = Node.open(settings)
    try:
        with receiving() as receiver:
            hooks = populate(node, receiver, subscription_count, 0.02, rng)
            made = [
                incidents.create_incident(
                    node,
                    OPERATOR,
                    {
                        "title": f"Benchmark incident {n}",
                        "summary": "Made up for the benchmark.",
                        "date_start": "2026-10-01",
                        "date_precision": "day",
                        "locations": [{"country": rng.choice(HOSTS), "geo_precision": "country"}],
                        "origin_countries": rng.sample(ORIGINS, 1),
                        "tactics": rng.sample(TACTICS, rng.randint(1, 2)),
                        "target_categories": rng.sample(TARGETS, 1),
                        "verification": "reported",
                        "tlp": "amber",
                    },
                ).id
                for n in range(incident_count)
            ]
            probe: list[float] = []
            every: list[float] = []
            matched: list[int] = []
            with running_worker(mode, node, home, url):
                deadline = time.monotonic() + 600
                while not settled(node):  # the "created" events go out before anything is timed
                    if time.monotonic() > deadline:
                        raise RuntimeError("the worker did not deliver the creations within 10 minutes")
                    time.sleep(0.2)
                for incident_id in made:
                    time.sleep(rng.uniform(0.2, 0.6))
                    key = (str(incident_id), "verified")
                    started = time.perf_counter()
                    incidents.update_incident(node, OPERATOR, incident_id, {"verification": "verified"})
                    with receiver.lock:
                        if not receiver.lock.wait_for(lambda: key in receiver.probe, timeout=30):  # noqa: B023
                            raise RuntimeError("the probe's webhook did not arrive within 30 s")
                    probe.append(receiver.probe[key] - started)
                    with node.store.reading() as session:  # how many webhooks this event makes
                        wanted = session.scalar(
                            select(func.count())
                            .select_from(Delivery)
                            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
                            .where(
                                OutboxEvent.subject_uuid == incident_id,
                                OutboxEvent.event == "verified",
                                Delivery.channel == "webhook",
                            )
                        )
                    with receiver.lock:
                        receiver.lock.wait_for(lambda: len(receiver.arrivals[key]) >= (wanted or 0), timeout=30)  # noqa: B023
                        every.append(max(receiver.arrivals[key]) - started)
                    matched.append(int(wanted or 0))
            return Result(database, mode, subscription_count, hooks, probe, every, matched, receiver.bad_signatures)
    finally:
        node.close()
        if database == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")


def report(results: list[Result]) -> str:
    rows = []
    for r in results:
        rows.append(
            [
                r.database,
                f"`{r.mode}`",
                f"{r.subscriptions:,} (+probe); {r.webhooks} webhooks",
                f"{sum(r.matched_webhooks) / len(r.matched_webhooks):.1f}",
                f"**{percentile(r.probe, 0.5) * 1000:,.0f}** / **{percentile(r.probe, 0.95) * 1000:,.0f}** / "
                f"{max(r.probe) * 1000:,.0f}",
                f"{percentile(r.all_webhooks, 0.5) * 1000:,.0f} / {percentile(r.all_webhooks, 0.95) * 1000:,.0f}",
                "yes" if percentile(r.probe, 0.95) < 1.0 else "no",
                r.bad_signatures,
            ]
        )
    return markdown_table(
        [
            "database",
            "worker",
            "subscriptions",
            "webhooks per event",
            "probe p50 / p95 / max (ms)",
            "all webhooks p50 / p95 (ms)",
            "p95 < 1 s",
            "bad signatures",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", choices=("sqlite", "postgresql"), help="Default: both.")
    parser.add_argument("--mode", action="append", choices=("worker", "embedded"), help="Default: both.")
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    args = parser.parse_args()
    print(f"# Alert latency, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")
    print(markdown_table(["", ""], list(machine().items())), "\n", flush=True)
    results = []
    for database in args.database or ["sqlite", "postgresql"]:
        for mode in args.mode or ["worker", "embedded"]:
            results.append(run(database, mode, args.incidents, args.subscriptions))
            print(report(results[-1:]), "\n", flush=True)
    print(report(results))


if __name__ == "__main__":
    main()
