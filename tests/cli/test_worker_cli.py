"""`tnrwatch worker`, as the real command: `--once` through the Typer app, and the KILL TESTS as real processes on the
same database (SQLite file and PostgreSQL): a worker SIGKILLed while a receiver holds its request, or in the middle of
fanning out thousands of events, loses nothing; its successor re-sends only with the same delivery ids (at least
once, with an idempotency key), and the inbox holds exactly one item per delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import incidents, outbox, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import Delivery, InboxItem, OutboxEvent

from ..factories import incident_data
from ..receivers import WebhookReceiver, webhook_receiver
from ..services.test_subscriptions import member

TNRWATCH = Path(sys.executable).parent / "tnrwatch"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    return CliRunner()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as server:
        yield server


def test_once_fans_out_sends_and_says_how_much(runner: CliRunner, node: Node) -> None:
    ana = member(node, "ana", "analyst")
    subscriptions.create_subscription(node, ana, {"name": "everything"})
    for _ in range(2):
        incidents.create_incident(node, Principal.operator(), incident_data())
    done = runner.invoke(app, ["worker", "--once"])
    assert done.exit_code == 0, done.output
    assert "2 event(s) fanned out into 2 delivery(ies); 0 sent, 0 to retry, 0 dead" in done.stdout
    again = runner.invoke(app, ["worker", "--once"])
    assert "0 event(s) fanned out into 0 delivery(ies)" in again.stdout
    assert len(subscriptions.list_inbox(node, ana)) == 2
    bad = runner.invoke(app, ["worker", "--poll", "0"])
    assert bad.exit_code == 2


class Worker:
    """`tnrwatch worker` as a child process on the test's database."""

    def __init__(self, settings: Settings, log: Path) -> None:
        env = {
            **os.environ,
            "TNRWATCH_HOME": str(settings.home),
            "TNRWATCH_DATABASE_URL": settings.resolved_database_url,
            "TNRWATCH_SQLITE_SYNCHRONOUS": "NORMAL",
            "TNRWATCH_WORKER_POLL_SECONDS": "0.1",
            "TNRWATCH_DELIVERY_LEASE_SECONDS": "1",
            "TNRWATCH_DELIVERY_RETRY_SECONDS": "0.1",
            "TNRWATCH_DELIVERY_TIMEOUT_SECONDS": "20",
        }
        self.log = log.open("ab")
        self.process = subprocess.Popen([str(TNRWATCH), "worker"], env=env, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(15)
        self.log.close()
        return code


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def scalar(node: Node, statement: object) -> int:
    with node.store.reading() as session:
        return int(session.scalar(statement) or 0)  # type: ignore[call-overload]


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing_and_resends_with_the_same_id(
    settings: Settings, node: Node, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    ana = member(node, "ana", "analyst")
    hold = threading.Event()
    for n in range(3):
        made = subscriptions.create_subscription(
            node, ana, {"name": f"hook {n}", "webhook_url": receiver.endpoint(f"h{n}", hold=hold if n == 0 else None)}
        )
        receiver.endpoints[f"/h{n}"].secret = made.webhook_secret or ""
    for _ in range(4):
        incidents.create_incident(node, Principal.operator(), incident_data())
    log = tmp_path / "worker.log"

    first = Worker(settings, log)
    try:
        assert receiver.first_held.wait(30), log.read_text()  # the worker is in the middle of a delivery
    finally:
        first.kill()
    hold.set()  # the held request is answered now, to nobody
    with node.store.reading() as session:
        webhooks = {str(u) for u in session.scalars(select(Delivery.uuid).where(Delivery.channel == "webhook"))}
    assert len(webhooks) == 12  # 4 incidents x 3 subscriptions: fanned out before the kill

    second = Worker(settings, log)
    try:
        wait_until(
            lambda: scalar(node, select(func.count()).where(Delivery.status != "sent")) == 0,
            "every delivery to be sent",
        )
    finally:
        assert second.stop() == 0, log.read_text()

    answered = receiver.ids(answered=200)
    everything = receiver.ids(answered=None)
    assert set(answered) == webhooks  # every delivery arrived and was acknowledged: nothing lost
    assert set(everything) <= webhooks  # whatever arrived twice came with a delivery id it had before
    duplicates = {delivery: n for delivery, n in Counter(everything).items() if n > 1}
    held = next(a.delivery_id for a in receiver.arrivals if a.path == "/h0" and a.answered != 200)
    assert duplicates.get(held, 0) >= 2  # the held one was sent again, under the same id
    with node.store.reading() as session:
        inbox_deliveries = set(session.scalars(select(Delivery.id).where(Delivery.channel == "inbox")))
        items = session.scalars(select(InboxItem.delivery_id)).all()
    assert len(inbox_deliveries) == 12
    assert sorted(items) == sorted(inbox_deliveries)  # exactly one inbox item per delivery
    assert len(subscriptions.list_inbox(node, ana)) == 12


@pytest.mark.slow
def test_a_worker_killed_mid_fan_out_fans_each_event_out_once(settings: Settings, node: Node, tmp_path: Path) -> None:
    ana = member(node, "ana", "analyst")
    for n in range(3):
        subscriptions.create_subscription(node, ana, {"name": f"search {n}"})
    subjects = [incidents.create_incident(node, Principal.operator(), incident_data()).id for _ in range(5)]
    with node.store.writing() as session:  # thousands of changes waiting: fan-out takes many batches
        outbox.enqueue_many(session, "incident", "updated", [subjects[n % 5] for n in range(3000)])
    total = scalar(node, select(func.count()).select_from(OutboxEvent))
    log = tmp_path / "worker.log"

    first = Worker(settings, log)
    try:
        wait_until(lambda: scalar(node, select(func.count()).select_from(Delivery)) > 0, "the first batch")
    finally:
        first.kill()
    left = scalar(node, select(func.count()).where(OutboxEvent.done_at.is_(None)))
    assert 0 < left < total, "the worker was not killed in the middle of fanning out"
    made_before = scalar(node, select(func.count()).select_from(Delivery))
    assert made_before == (total - left) * 3  # what committed is whole: three deliveries per event done

    second = Worker(settings, log)
    try:
        wait_until(lambda: scalar(node, select(func.count()).where(OutboxEvent.done_at.is_(None))) == 0, "the fan-out")
    finally:
        assert second.stop() == 0, log.read_text()
    with node.store.reading() as session:
        per_event = Counter(session.scalars(select(Delivery.event_id)))
        items = session.scalar(select(func.count()).select_from(InboxItem))
    assert len(per_event) == total
    assert set(per_event.values()) == {3}  # each event once, to each subscription once
    assert items == total * 3
    written = log.read_text()
    assert "delivery:" in written  # the worker said what it did: in counts,
    assert not any(str(subject) in written for subject in subjects)  # never naming a subject
