"""Delivery, end to end with real receivers: a webhook endpoint on loopback that checks every signature, a real SMTP
server (aiosmtpd), the inbox. Matching subscribers hear once through each channel, with minimal content; failures are
retried with backoff and dead-lettered; only those who may read a subject hear of it; 10,000 subscriptions fan out
well under a second; on PostgreSQL two workers share the sending without sending anything twice. Both databases."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from tnrwatch.domain.sharing import Facts
from tnrwatch.services import accounts, alerts, delivery, fanout, incidents, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.subscriptions import stored_filter
from tnrwatch.services.worker import run_once
from tnrwatch.settings import Settings
from tnrwatch.store import migrate
from tnrwatch.store.db import Store
from tnrwatch.store.models import Account, Delivery, InboxItem, Subscription
from tnrwatch.store.types import utcnow

from ..conftest import PostgresDatabases, require_postgres
from ..factories import incident_data
from ..receivers import Mailbox, WebhookReceiver, free_port, smtp_server, webhook_receiver
from .test_subscriptions import member

OPERATOR = Principal.operator()
GERMAN = Principal(None, "olga", "officer", "DE")
PUBLIC_URL = "https://tnr.node.example"
SUMMARY = incident_data()["summary"]
TITLE = incident_data()["title"]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as server:
        yield server


@pytest.fixture
def fast(settings: Settings, mailbox: Mailbox) -> Iterator[Node]:
    """The node with the mail relay, a public address, quick retries and few attempts."""
    opened = Node.open(
        settings.model_copy(
            update={
                "smtp_host": mailbox.host,
                "smtp_port": mailbox.port,
                "smtp_from": "alerts@tnr.node.example",
                "public_url": PUBLIC_URL,
                "delivery_retry_seconds": 0.01,
                "delivery_retry_max_seconds": 0.04,
                "delivery_max_attempts": 3,
                "delivery_timeout_seconds": 0.5,
            }
        )
    )
    yield opened
    opened.close()


def drain(node: Node, until: Callable[[], bool], timeout: float = 10.0) -> None:
    """Run the worker until `until()` holds (retries fall due after a few hundredths of a second)."""
    deadline = time.monotonic() + timeout
    while True:
        run_once(node)
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the deliveries did not settle in time")
        time.sleep(0.02)


def statuses(node: Node) -> list[tuple[str, str, int, str | None]]:
    with node.store.reading() as session:
        rows = session.execute(
            select(Delivery.channel, Delivery.status, Delivery.attempts, Delivery.last_error).order_by(Delivery.id)
        ).all()
    return [(channel, status, attempts, error) for channel, status, attempts, error in rows]


def inbox_subjects(node: Node, principal: Principal) -> list[uuid.UUID]:
    return [item.subject_id for item in reversed(subscriptions.list_inbox(node, principal))]


def test_a_matching_subscriber_hears_once_through_each_channel(
    fast: Node, receiver: WebhookReceiver, mailbox: Mailbox
) -> None:
    ana = member(fast, "ana", "analyst")
    bob = member(fast, "bob", "analyst")
    hook = subscriptions.create_subscription(
        fast,
        ana,
        {
            "name": "Uzbekistan",
            "filter": {"origins": ["UZ"], "topics": ["incident"]},
            "email": "desk@focal-point.example",
            "webhook_url": receiver.endpoint("ana"),
        },
    )
    assert hook.webhook_secret is not None
    receiver.endpoints["/ana"].secret = hook.webhook_secret
    subscriptions.create_subscription(fast, bob, {"name": "Russia", "filter": {"origins": ["RU"]}})
    incident = incidents.create_incident(fast, OPERATOR, incident_data())

    result = run_once(fast)
    assert (result.events, result.deliveries, result.sent, result.failed, result.dead) == (1, 3, 2, 0, 0)
    assert run_once(fast).busy is False  # nothing twice

    log = subscriptions.list_deliveries(fast, ana)
    assert sorted((d.channel, d.status, d.attempts) for d in log) == [
        ("email", "sent", 1),
        ("inbox", "sent", 1),
        ("webhook", "sent", 1),
    ]
    ids = {d.channel: d.id for d in log}
    assert inbox_subjects(fast, ana) == [incident.id]
    assert subscriptions.list_inbox(fast, bob) == []
    assert subscriptions.list_deliveries(fast, bob) == []

    [arrival] = receiver.arrivals
    assert arrival.signed
    assert arrival.delivery_id == str(ids["webhook"])
    assert arrival.body == {
        "delivery_id": str(ids["webhook"]),
        "topic": "incident",
        "event": "created",
        "subject_id": str(incident.id),
        "occurred_at": arrival.body["occurred_at"],
        "link": f"{PUBLIC_URL}/app/incidents/{incident.id}",
    }
    assert dt.datetime.fromisoformat(arrival.body["occurred_at"]) <= utcnow()

    [(recipients, message)] = mailbox.messages
    assert recipients == ["desk@focal-point.example"]
    assert message["Message-ID"] == f"<{ids['email']}@tnr.node.example>"
    assert message["From"] == "alerts@tnr.node.example"
    assert message["Subject"] == "[tnrwatch] Incident created"
    text = message.get_payload(decode=True).decode()
    assert f"{PUBLIC_URL}/app/incidents/{incident.id}" in text
    for secret in (SUMMARY, TITLE, "Istanbul", "Activist"):  # no summary, title or place
        assert secret not in text
        assert secret not in str(arrival.body)


def test_an_alert_tells_its_level_and_marking_and_its_title_only_when_green(
    fast: Node, receiver: WebhookReceiver, mailbox: Mailbox
) -> None:
    ana = member(fast, "ana", "analyst")
    made = subscriptions.create_subscription(
        fast,
        ana,
        {
            "name": "urgent alerts",
            "filter": {"topics": ["alert"], "levels": ["urgent"]},
            "email": "desk@eu.example",
            "webhook_url": receiver.endpoint("ana"),
        },
    )
    receiver.endpoints["/ana"].secret = made.webhook_secret or ""
    base = {"summary": "Three forced returns in one week.", "audience": [{"kind": "eu"}]}
    green = alerts.create_alert(fast, GERMAN, {**base, "title": "Green words", "level": "urgent", "tlp": "green"})
    amber = alerts.create_alert(fast, GERMAN, {**base, "title": "Amber words", "level": "urgent", "tlp": "amber"})
    quiet = alerts.create_alert(fast, GERMAN, {**base, "title": "Quiet words", "level": "information", "tlp": "clear"})
    for alert in (green, amber, quiet):
        alerts.publish_alert(fast, GERMAN, alert.id)
    run_once(fast)

    bodies = {a.body["subject_id"]: a.body for a in receiver.arrivals}
    assert set(bodies) == {str(green.id), str(amber.id)}  # not the information-level one
    assert (bodies[str(amber.id)]["level"], bodies[str(amber.id)]["tlp"]) == ("urgent", "amber")
    assert bodies[str(amber.id)]["link"] == f"{PUBLIC_URL}/app/alerts/{amber.id}"
    assert all("words" not in str(body) for body in bodies.values())
    mails = {m["Subject"]: m.get_payload(decode=True).decode() for _, m in mailbox.messages}
    assert set(mails) == {
        "[tnrwatch] Alert published (urgent, TLP:GREEN)",
        "[tnrwatch] Alert published (urgent, TLP:AMBER)",
    }
    assert "Title: Green words" in mails["[tnrwatch] Alert published (urgent, TLP:GREEN)"]
    amber_mail = mails["[tnrwatch] Alert published (urgent, TLP:AMBER)"]
    assert "Amber words" not in amber_mail
    assert "Three forced returns" not in amber_mail
    assert "Marking: TLP:AMBER" in amber_mail

    alerts.withdraw_alert(fast, GERMAN, amber.id)
    run_once(fast)
    assert [a.body["event"] for a in receiver.arrivals if a.body["subject_id"] == str(amber.id)] == [
        "published",
        "withdrawn",
    ]


def test_failures_are_retried_with_backoff_then_dead_lettered(fast: Node, receiver: WebhookReceiver) -> None:
    ana = member(fast, "ana", "analyst")
    for name, how in (("down", {"fail": 100}), ("flaky", {"fail": 2, "status_on_fail": 503})):
        made = subscriptions.create_subscription(
            fast, ana, {"name": name, "inbox": False, "webhook_url": receiver.endpoint(name)}
        )
        receiver.endpoints[f"/{name}"].secret = made.webhook_secret or ""
        for key, value in how.items():
            setattr(receiver.endpoints[f"/{name}"], key, value)
    incidents.create_incident(fast, OPERATOR, incident_data())
    drain(fast, lambda: all(status != "pending" for _, status, _, _ in statuses(fast)))

    log = {d.subscription_name: d for d in subscriptions.list_deliveries(fast, ana)}
    assert (log["down"].status, log["down"].attempts, log["down"].last_error) == ("dead", 3, "HTTP 500")
    assert log["down"].next_attempt_at is None
    assert (log["flaky"].status, log["flaky"].attempts, log["flaky"].last_error) == ("sent", 3, None)
    assert [d.subscription_name for d in subscriptions.list_deliveries(fast, ana, status="dead")] == ["down"]
    by_path = {path: [a for a in receiver.arrivals if a.path == path] for path in ("/down", "/flaky")}
    assert [a.answered for a in by_path["/flaky"]] == [503, 503, 200]
    assert len(by_path["/down"]) == 3
    assert len({a.delivery_id for a in by_path["/down"]}) == 1  # every attempt carries the same delivery id
    gaps = [later.at - earlier.at for earlier, later in zip(by_path["/down"], by_path["/down"][1:], strict=False)]
    assert all(gap >= 0.005 for gap in gaps)  # waited (half of 0.01 s at least) before each retry


def test_retry_waits_double_with_jitter_up_to_a_cap() -> None:
    settings = Settings(delivery_retry_seconds=10, delivery_retry_max_seconds=60)
    low = [delivery.retry_delay(n, settings, rng=lambda: 0.0).total_seconds() for n in range(1, 7)]
    high = [delivery.retry_delay(n, settings, rng=lambda: 1.0).total_seconds() for n in range(1, 7)]
    assert low == [5, 10, 20, 30, 30, 30]
    assert high == [10, 20, 40, 60, 60, 60]
    assert 5 <= delivery.retry_delay(1, settings).total_seconds() <= 10


def test_timeouts_and_refusals_are_logged_as_error_classes(fast: Node, receiver: WebhookReceiver) -> None:
    ana = member(fast, "ana", "analyst")
    slow = subscriptions.create_subscription(
        fast, ana, {"name": "slow", "inbox": False, "webhook_url": receiver.endpoint("slow", delay=1.0)}
    )
    receiver.endpoints["/slow"].secret = slow.webhook_secret or ""
    closed = f"http://127.0.0.1:{free_port()}/nobody"
    subscriptions.create_subscription(fast, ana, {"name": "closed", "inbox": False, "webhook_url": closed})
    incidents.create_incident(fast, OPERATOR, incident_data())
    run_once(fast)
    log = {d.subscription_name: d for d in subscriptions.list_deliveries(fast, ana)}
    assert (log["slow"].status, log["slow"].attempts, log["slow"].last_error) == ("pending", 1, "TimeoutError")
    assert (log["closed"].last_error, log["closed"].attempts) == ("ConnectionRefusedError", 1)
    assert log["closed"].next_attempt_at is not None
    assert log["closed"].next_attempt_at > log["closed"].created_at


def test_only_those_who_may_read_a_subject_hear_of_it(node: Node) -> None:
    olga = member(node, "olga", "officer", "DE")
    fabien = member(node, "fabien", "officer", "FR")
    ana = member(node, "ana", "analyst")
    lia = member(node, "lia", "liaison")
    for principal in (olga, fabien, ana, lia):
        subscriptions.create_subscription(node, principal, {"name": "everything"})

    german = incidents.create_incident(node, olga, incident_data(tlp="amber"))  # Germany's, not shared
    red = incidents.create_incident(node, OPERATOR, incident_data(tlp="red"))  # the node's own, RED
    run_once(node)
    assert inbox_subjects(node, olga) == [german.id]
    assert inbox_subjects(node, fabien) == []
    assert inbox_subjects(node, ana) == [red.id]
    assert inbox_subjects(node, lia) == []

    incidents.share_with_eu(node, olga, german.id, True)  # the EU level reads it now; France still does not (AMBER)
    alert = alerts.create_alert(
        node,
        olga,
        {"title": "Returns", "summary": "Returns.", "level": "warning", "tlp": "amber", "audience": [{"kind": "eu"}]},
    )
    alerts.publish_alert(node, olga, alert.id)
    run_once(node)
    assert inbox_subjects(node, ana) == [red.id, german.id, alert.id]
    assert inbox_subjects(node, olga) == [german.id, german.id, alert.id]  # its own: the share and the alert
    assert inbox_subjects(node, fabien) == []  # neither the AMBER incident nor an alert not addressed to France
    assert inbox_subjects(node, lia) == []  # liaisons receive no alerts


def test_what_waits_is_dropped_when_the_subscription_goes_or_the_subject_is_no_longer_readable(
    node: Node, receiver: WebhookReceiver
) -> None:
    ana = member(node, "ana", "analyst")
    olga = member(node, "olga", "officer", "DE")
    gone = subscriptions.create_subscription(node, ana, {"name": "gone", "webhook_url": receiver.endpoint("gone")})
    kept = subscriptions.create_subscription(
        node, ana, {"name": "kept", "inbox": False, "webhook_url": receiver.endpoint("kept")}
    )
    receiver.endpoints["/kept"].secret = kept.webhook_secret or ""
    german = incidents.create_incident(node, olga, incident_data(tlp="amber"))
    incidents.share_with_eu(node, olga, german.id, True)
    assert fanout.fan_out(node).deliveries == 3 + 3  # two events: webhook and inbox of "gone", webhook of "kept"
    subscriptions.remove_subscription(node, ana, gone.id)
    incidents.share_with_eu(node, olga, german.id, False)  # withdrawn before the worker sends
    run_once(node)
    assert receiver.arrivals == []
    log = subscriptions.list_deliveries(node, ana)
    assert sorted((d.subscription_name, d.channel, d.status, d.last_error) for d in log) == [
        ("gone", "inbox", "sent", None),  # the inbox was written at fan-out, with the event
        ("gone", "inbox", "sent", None),
        ("gone", "webhook", "dead", "subscription removed"),
        ("gone", "webhook", "dead", "subscription removed"),
        ("kept", "webhook", "dead", "no longer readable"),
        ("kept", "webhook", "dead", "no longer readable"),
    ]


def test_a_disabled_account_hears_nothing(node: Node) -> None:
    ana = member(node, "ana", "analyst")
    subscriptions.create_subscription(node, ana, {"name": "everything"})
    accounts.set_disabled(node, OPERATOR, "ana", True)
    incidents.create_incident(node, OPERATOR, incident_data())
    assert run_once(node).deliveries == 0


# -- at scale ----------------------------------------------------------------------------------------------------------


def random_filter(rng: random.Random) -> dict[str, Any]:
    """A realistic saved search: one or two narrowing lists, sometimes only a topic or a level."""
    origins = ["UZ", "RU", "CN", "TR", "IR", "BY", "RW", "ER", "SA", "EG", "TJ", "VN"]
    hosts = ["DE", "FR", "NL", "SE", "TR", "GB", "PL", "BE", "IT", "ES", "AT", "CZ"]
    tactics = ["abduction", "assault", "forced_return", "spyware", "family_threats", "online_harassment"]
    targets = ["activist", "journalist", "hrd", "dissident"]
    found: dict[str, Any] = {}
    for name, values in (("origins", origins), ("hosts", hosts), ("tactics", tactics)):
        if rng.random() < 0.45:
            found[name] = rng.sample(values, rng.randint(1, 3))
    if rng.random() < 0.2:
        found["target_categories"] = rng.sample(targets, rng.randint(1, 2))
    if rng.random() < 0.3:
        found["topics"] = [rng.choice(["incident", "alert"])]
    if rng.random() < 0.1:
        found["levels"] = ["urgent"]
    return found


def test_ten_thousand_subscriptions_fan_out_well_under_a_second(node: Node) -> None:
    rng = random.Random(6)
    with node.store.writing() as session:
        analysts = [{"username": f"analyst-{n}", "role": "analyst", "created_at": utcnow()} for n in range(50)]
        session.execute(insert(Account), analysts)
        account_ids = list(session.scalars(select(Account.id).order_by(Account.id)))
        rows = [
            {
                "uuid": uuid.uuid4(),
                "account_id": account_ids[n % len(account_ids)],
                "name": f"search {n}",
                "filter": random_filter(rng),
                "inbox": True,
                "active": True,
                "created_at": utcnow(),
            }
            for n in range(10_000)
        ]
        session.execute(insert(Subscription), rows)
    # A worker reads every subscription's filter once, at its first batch; later batches use its index.
    warm_up = incidents.create_incident(node, OPERATOR, incident_data(origin_countries=["KP"], tactics=["spyware"]))
    assert fanout.fan_out(node).events == 1
    incident = incidents.create_incident(node, OPERATOR, incident_data(origin_countries=["UZ", "RU"]))
    started = time.perf_counter()
    result = fanout.fan_out(node)
    elapsed = time.perf_counter() - started
    assert result.events == 1
    assert elapsed < 1.0, f"fan-out to 10,000 subscriptions took {elapsed:.2f} s"

    # The index found exactly the subscriptions a plain scan with the domain's rule finds.
    facts = Facts(
        topic="incident",
        origins=frozenset({"UZ", "RU"}),
        hosts=frozenset({"TR"}),
        tactics=frozenset({"abduction"}),
        target_categories=frozenset({"activist"}),
    )
    with node.store.reading() as session:
        expected = {
            sub_id
            for sub_id, stored in session.execute(select(Subscription.id, Subscription.filter))
            if stored_filter(stored).matches(facts)
        }
        delivered = set(session.scalars(select(Delivery.subscription_id).where(Delivery.event_id == 2)))
        items = session.scalars(select(InboxItem.subject_uuid).where(InboxItem.subject_uuid != warm_up.id)).all()
    assert 100 < len(expected) < 9_000  # a real mix: many match, most do not
    assert delivered == expected
    assert set(items) == {incident.id}
    assert len(items) == len(expected)


@pytest.fixture
def postgres_node(postgres_databases: PostgresDatabases | None, tmp_path: Path) -> Iterator[Node]:
    """A node on a PostgreSQL database of its own (SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time)."""
    url = require_postgres(postgres_databases).create("workers")
    store = Store(url)
    migrate.upgrade(store)
    store.dispose()
    opened = Node.open(Settings(home=tmp_path / "pg", database_url=url))
    yield opened
    opened.close()


def test_two_workers_share_the_sending_and_send_nothing_twice(postgres_node: Node, receiver: WebhookReceiver) -> None:
    node = postgres_node
    settings = node.settings
    ana = member(node, "ana", "analyst")
    for n in range(20):
        made = subscriptions.create_subscription(
            node, ana, {"name": f"hook {n}", "inbox": False, "webhook_url": receiver.endpoint(f"h{n}", delay=0.01)}
        )
        receiver.endpoints[f"/h{n}"].secret = made.webhook_secret or ""
    for _ in range(5):
        incidents.create_incident(node, OPERATOR, incident_data())
    assert fanout.fan_out(node).deliveries == 100
    workers = [Node.open(settings), Node.open(settings)]
    sent = [0, 0]

    def work(index: int) -> None:
        while (result := delivery.send_due(workers[index], limit=16)).sent or result.failed:
            sent[index] += result.sent

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for worker in workers:
        worker.close()
    ids = receiver.ids(answered=None)
    assert len(ids) == 100
    assert len(set(ids)) == 100  # no delivery sent twice
    assert sum(sent) == 100
    assert min(sent) > 0  # both took a share
    assert {status for _, status, _, _ in statuses(node)} == {"sent"}


def test_a_fan_out_transaction_stops_taking_events_at_its_delivery_limit(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = member(node, "ana", "analyst")
    for n in range(3):
        subscriptions.create_subscription(node, ana, {"name": f"search {n}"})
    for _ in range(4):
        incidents.create_incident(node, OPERATOR, incident_data())
    monkeypatch.setattr(fanout, "MAX_DELIVERIES_PER_BATCH", 5)
    assert fanout.fan_out(node) == fanout.FanOut(events=2, deliveries=6)  # stopped after the event that passed 5
    assert fanout.fan_out(node) == fanout.FanOut(events=2, deliveries=6)
    assert fanout.fan_out(node) == fanout.FanOut(events=0, deliveries=0)
    assert len(subscriptions.list_inbox(node, ana)) == 12
