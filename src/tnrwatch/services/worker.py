"""The delivery worker: fan-out (services/fanout.py), then sending (services/delivery.py), again and again.

`tnrwatch worker` runs `run_forever` in its own process; with TNRWATCH_WORKER=embedded the server runs it on a thread
(`EmbeddedWorker`). Any number of workers may run against one PostgreSQL (they claim with SKIP LOCKED); on SQLite they
take turns on the write lock. A worker sleeps until a change is committed in its own process, a PostgreSQL NOTIFY
from any process (services/outbox.py), the next retry falls due, or TNRWATCH_WORKER_POLL_SECONDS pass.

Logs hold counts and error classes only: never an address, a subject, or a receiver's answer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tnrwatch.services import outbox
from tnrwatch.services.delivery import SEND_BATCH, send_due
from tnrwatch.services.fanout import fan_out
from tnrwatch.services.node import Node
from tnrwatch.store.models import Delivery
from tnrwatch.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    events: int
    deliveries: int
    sent: int
    failed: int
    dead: int
    next_due_in: float | None  # seconds until the next delivery is due; None: nothing pending

    @property
    def busy(self) -> bool:
        return bool(self.events or self.sent or self.failed or self.dead)


def run_once(node: Node, *, max_rounds: int = 50) -> RunResult:
    """Fan out every undone event, then send every due delivery (each in rounds of a batch, at most `max_rounds`)."""
    events = deliveries = 0
    for _ in range(max_rounds):
        done = fan_out(node)
        events += done.events
        deliveries += done.deliveries
        if done.events == 0:  # (a look that finds nothing takes one read)
            break
    sent = failed = dead = 0
    for _ in range(max_rounds):
        result = send_due(node)
        sent, failed, dead = sent + result.sent, failed + result.failed, dead + result.dead
        if result.sent + result.failed + result.dead < SEND_BATCH:
            break
    return RunResult(events, deliveries, sent, failed, dead, _next_due_in(node))


def _next_due_in(node: Node) -> float | None:
    with node.store.reading() as session:
        row = session.execute(
            select(Delivery.next_attempt_at, Delivery.lease_until)
            .where(Delivery.status == "pending")
            .order_by(Delivery.next_attempt_at)
            .limit(1)
        ).first()
    if row is None:
        return None
    due: dt.datetime = max(row.next_attempt_at, row.lease_until or row.next_attempt_at)
    return max(0.0, (due - utcnow()).total_seconds())


def run_forever(node: Node, stop: threading.Event, poll_seconds: float | None = None) -> None:
    """Run until `stop` is set: work while there is work, else wait for a wake-up (a change committed in this
    process; on PostgreSQL, a NOTIFY from any process), the next due retry, or `poll_seconds`."""
    poll = poll_seconds if poll_seconds is not None else node.settings.worker_poll_seconds
    waker = _Waker.open(node)
    try:
        while not stop.is_set():
            outbox.WAKEUP.clear()
            try:
                result = run_once(node)
            except Exception as exc:  # the database went away, say: keep the worker alive, try again
                log.warning("the delivery worker's run failed (%s); trying again in %.1f s", type(exc).__name__, poll)
                stop.wait(poll)
                continue
            if result.busy:
                log.info(
                    "delivery: %d event(s), %d delivery(ies) made, %d sent, %d failed, %d dead",
                    result.events,
                    result.deliveries,
                    result.sent,
                    result.failed,
                    result.dead,
                )
                continue
            timeout = poll if result.next_due_in is None else min(poll, result.next_due_in + 0.01)
            waker.wait(timeout, stop)
    finally:
        waker.close()


class _Waker:
    """Waits for new work: the in-process wake-up, and on PostgreSQL the outbox's NOTIFY channel too."""

    def __init__(self, listener: psycopg.Connection[Any] | None) -> None:
        self.listener = listener

    @classmethod
    def open(cls, node: Node) -> _Waker:
        if node.store.dialect != "postgresql":
            return cls(None)
        url = make_url(node.store.url).set(drivername="postgresql")
        try:
            listener = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            listener.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
        except psycopg.Error as exc:
            log.warning("cannot listen for outbox events (%s): polling instead", type(exc).__name__)
            return cls(None)
        return cls(listener)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        if self.listener is None:
            # stop() sets the wake-up too, so a stopping worker does not sit out its poll.
            outbox.WAKEUP.wait(timeout)
            return
        deadline = utcnow() + dt.timedelta(seconds=timeout)
        while not stop.is_set() and not outbox.WAKEUP.is_set():
            left = (deadline - utcnow()).total_seconds()
            if left <= 0:
                return
            try:
                for _ in self.listener.notifies(timeout=min(left, 0.25), stop_after=1):
                    return
            except psycopg.Error:
                self.close()
                self.listener = None
                return

    def close(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(psycopg.Error):
                self.listener.close()


class EmbeddedWorker:
    """The worker on a thread of the server (TNRWATCH_WORKER=embedded): started with the app, stopped with it."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tnrwatch delivery worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        run_forever(self.node, self._stop)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        outbox.WAKEUP.set()
        self._thread.join(timeout)
