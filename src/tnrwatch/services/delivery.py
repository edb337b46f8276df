"""Sending: e-mail and webhook deliveries leave the node here (inbox deliveries are done at fan-out,
services/fanout.py).

Claim due deliveries (pending, due, lease free or expired; PostgreSQL: `FOR UPDATE SKIP LOCKED`, so that workers
take disjoint ones), set their lease and commit; send outside any transaction, several at once; then record each
outcome: sent, or a later attempt after an exponential backoff with jitter, or dead (the dead letter) after
`delivery_max_attempts`. A worker that dies mid-send leaves its lease to run out, and the next worker sends again
with the SAME delivery id: at least once, with an idempotency key the receiver can check (the webhook's
X-Tnrwatch-Delivery header, the e-mail's Message-ID).

Before sending, the worker checks again that the subscription is active, its account enabled and the subject still
readable by it: a share withdrawn meanwhile drops the delivery as dead ("no longer readable").
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tnrwatch.services.channels import DeliveryFailedError, EmailSender, Notice, Sender, WebhookSender, link
from tnrwatch.services.fanout import Subject, may_read, subjects
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import Account, Alert, Delivery, OutboxEvent, Subscription
from tnrwatch.store.types import utcnow

SEND_BATCH = 64  # deliveries claimed per round
SEND_THREADS = 8  # deliveries in flight at once: one slow receiver does not hold up the others


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    address: str
    secret: str | None
    notice: Notice | None  # None: not to be sent (the reason says why)
    reason: str | None = None


@dataclass(frozen=True)
class Sent:
    sent: int
    failed: int
    dead: int

    def __add__(self, other: Sent) -> Sent:
        return Sent(self.sent + other.sent, self.failed + other.failed, self.dead + other.dead)


def send_due(node: Node, *, limit: int = SEND_BATCH) -> Sent:
    """Claim up to `limit` due e-mail and webhook deliveries, send them (several at once) and record the outcomes as
    they come: whatever has finished is recorded together, in one transaction, while the rest are still on their way
    (so a worker killed now re-sends only what it had not recorded)."""
    claimed = _claim(node, limit)
    if not claimed:
        return Sent(0, 0, 0)
    channels = default_senders(node.settings)
    jobs = _prepare(node, claimed)
    given_up = [(job.id, None, job.reason or "not sent") for job in jobs if job.notice is None]
    tally = _record(node, given_up)
    to_send = [job for job in jobs if job.notice is not None]
    if not to_send:
        return tally
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(to_send)), thread_name_prefix="tnrwatch-send") as pool:
        waiting = {pool.submit(_attempt, channels[job.channel], job): job for job in to_send}
        while waiting:
            finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
            outcomes = [(waiting.pop(future).id, future.result(), None) for future in finished]
            tally = tally + _record(node, outcomes)
    return tally


def default_senders(settings: Settings) -> dict[str, Sender]:
    return {
        "webhook": WebhookSender(settings.delivery_timeout_seconds),
        "email": EmailSender.from_settings(settings),
    }


def _attempt(sender: Sender, job: _Claimed) -> str | None:
    """Send; the failure's reason, or None on success."""
    assert job.notice is not None
    try:
        sender(job.notice, job.address, job.secret)
    except DeliveryFailedError as exc:
        return exc.reason
    except Exception as exc:  # a bug in a channel must not stop the others; it is retried like any failure
        return type(exc).__name__
    return None


def _claim(node: Node, limit: int) -> list[int]:
    now = utcnow()
    lease = now + dt.timedelta(seconds=node.settings.delivery_lease_seconds)
    due = select(Delivery.id).where(
        Delivery.status == "pending",
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
    )
    with node.store.reading() as session:  # most looks find nothing: then take no write lock
        if session.scalar(due.limit(1)) is None:
            return []
    with node.store.writing() as session:
        ids = list(
            session.scalars(
                due.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit).with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(lease_until=lease)
                .execution_options(synchronize_session=False)
            )
    return ids


def _prepare(node: Node, ids: Sequence[int]) -> list[_Claimed]:
    """What to send for each claimed delivery, checking again that it may still go out."""
    settings = node.settings
    jobs: list[_Claimed] = []
    with node.store.reading() as session:
        rows = session.execute(
            select(Delivery, Subscription, Account, OutboxEvent)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .join(Account, Account.id == Subscription.account_id)
            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        ).all()
        found = subjects(session, [(event.id, event.topic, event.subject_uuid) for _, _, _, event in rows])
        for delivery, subscription, account, event in rows:
            address = subscription.webhook_url if delivery.channel == "webhook" else subscription.email
            principal = Principal(account.id, account.username, account.role, account.jurisdiction_code)
            subject = found.get((event.topic, event.subject_uuid))
            reason = None
            if not subscription.active:
                reason = "subscription removed"
            elif account.disabled:
                reason = "account disabled"
            elif not address:
                reason = "no address"
            elif subject is None or not may_read(session, principal, event.topic, subject):
                reason = "no longer readable"
            notice = None
            if reason is None:
                notice = _notice(session, settings, delivery, event, subject)
            jobs.append(
                _Claimed(delivery.id, delivery.channel, address or "", subscription.webhook_secret, notice, reason)
            )
    return jobs


def _notice(
    session: Session, settings: Settings, delivery: Delivery, event: OutboxEvent, subject: Subject | None
) -> Notice:
    level = tlp = title = None
    if event.topic == "alert" and subject is not None:
        alert = session.get(Alert, subject.row_id)
        if alert is not None:
            level, tlp, title = alert.level, alert.tlp, alert.title
    return Notice(
        delivery_id=delivery.uuid,
        topic=event.topic,
        event=event.event,
        subject_id=event.subject_uuid,
        occurred_at=event.created_at,
        link=link(settings, event.topic, event.subject_uuid),
        level=level,
        tlp=tlp,
        title=title,
    )


def retry_delay(attempts: int, settings: Settings, rng: Callable[[], float] = random.random) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: doubling from `delivery_retry_seconds`, capped at
    `delivery_retry_max_seconds`, then between half and all of it at random (so that many failures at once do not
    come back at once)."""
    base = min(settings.delivery_retry_max_seconds, settings.delivery_retry_seconds * 2 ** min(attempts - 1, 30))
    return dt.timedelta(seconds=base * (0.5 + rng() / 2))


def _record(node: Node, outcomes: Sequence[tuple[int, str | None, str | None]]) -> Sent:
    """Record attempts' outcomes, (delivery, error or None, reason to give up or None), in one transaction. A
    delivery no longer pending (another worker finished it after this one's lease ran out) is left as it is."""
    if not outcomes:
        return Sent(0, 0, 0)
    now = utcnow()
    sent = failed = dead = 0
    with node.store.writing() as session:
        found = session.scalars(select(Delivery).where(Delivery.id.in_([outcome[0] for outcome in outcomes])))
        rows = {row.id: row for row in found}
        for delivery_id, error, give_up in outcomes:
            row = rows.get(delivery_id)
            if row is None or row.status != "pending":
                continue
            row.lease_until = None
            if give_up is not None:
                row.status, row.last_error = "dead", give_up
                dead += 1
                continue
            row.attempts += 1
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                sent += 1
            elif row.attempts >= node.settings.delivery_max_attempts:
                row.status, row.last_error = "dead", error
                dead += 1
            else:
                row.last_error = error
                row.next_attempt_at = now + retry_delay(row.attempts, node.settings)
                failed += 1
    return Sent(sent, failed, dead)
