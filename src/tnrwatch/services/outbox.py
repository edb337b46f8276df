"""The outbox: what subscribers may need to hear of, written in the same transaction as the change itself.

A service that creates, changes or verifies an incident, or publishes or withdraws an alert, calls `enqueue` inside
its own write transaction: the event commits with the change or not at all, so a change is never lost to delivery,
whatever dies when. The worker (services/delivery.py) fans each event out to the subscriptions it matches.

Committing an event also wakes the worker: a worker in the same process at once (`WAKEUP`), workers in other
processes through PostgreSQL's NOTIFY (sent with the commit); on SQLite they look every
`TNRWATCH_WORKER_POLL_SECONDS`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tnrwatch.domain.sharing import Topic
from tnrwatch.store.bulk import BulkWriter
from tnrwatch.store.models import OutboxEvent
from tnrwatch.store.types import utcnow

EVENTS: dict[str, tuple[str, ...]] = {
    "incident": ("created", "updated", "verified"),
    "alert": ("published", "withdrawn"),
}
# The taxonomy's verification levels (taxonomy/v1/assessment.yaml) that count as verified: reaching one of them is
# an event of its own, which subscribers often wait for.
VERIFIED_LEVELS = frozenset({"verified"})
NOTIFY_CHANNEL = "tnrwatch_outbox"
# Set when a transaction that enqueued an event commits in this process; the embedded worker waits on it.
WAKEUP = threading.Event()
_PENDING = "tnrwatch.outbox_pending"  # session.info flag: this transaction enqueued something


def incident_event(before: str, after: str) -> str:
    """The event for a change to an incident whose verification level went from `before` to `after`: "verified"
    when it reached a verified level, else "updated". (A new incident is "created", whatever its level.)"""
    return "verified" if after in VERIFIED_LEVELS and before not in VERIFIED_LEVELS else "updated"


def enqueue(session: Session, topic: Topic, event: str, subject_uuid: uuid.UUID) -> None:
    """Add an event to the outbox in the caller's write transaction."""
    enqueue_many(session, topic, event, [subject_uuid])


def enqueue_many(session: Session, topic: Topic, event: str, subject_uuids: Sequence[uuid.UUID]) -> None:
    """Add one event per subject in the caller's write transaction, in one statement (imports add thousands)."""
    if event not in EVENTS.get(topic, ()):
        raise ValueError(f"unknown outbox event {topic}/{event}")
    if not subject_uuids:
        return
    writer = BulkWriter(session.connection())
    now = utcnow()
    writer.insert(
        OutboxEvent.__tablename__,
        ("topic", "event", "subject_uuid", "created_at"),
        [(topic, event, subject, now) for subject in subject_uuids],
    )
    if writer.dialect == "postgresql" and not session.info.get(_PENDING):
        # Delivered to listening workers when (and only if) the transaction commits; once per transaction.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    session.info[_PENDING] = True


@sqlalchemy_event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        WAKEUP.set()


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def pending_count(session: Session) -> int:
    """Events not fanned out yet."""
    return session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.done_at.is_(None))) or 0
