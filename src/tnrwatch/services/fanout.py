"""Fan-out: from the outbox (services/outbox.py) to one delivery per matching subscription and channel.

Claim a batch of undone outbox events (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so that workers take disjoint batches;
SQLite: the write lock every write transaction takes), work out what each subject offers a subscription (`Facts`:
an incident's origins, hosts, tactics and target categories; an alert's level and the union of its incidents'
codes), match every active subscription of an enabled account (an index by filter value, built per batch, keeps
10,000 subscriptions cheap), and keep only the subscribers who may read the subject under the rules that hold
everywhere else (incidents: services/policy.py's read scope; alerts: services/alerts.py's owner and audience rule).

Then, in the SAME transaction: one `Delivery` per subscription and channel (a unique key), the inbox items (an inbox
delivery is done at once: its item is written with it, exactly once), and the events marked done. A crash before the
commit leaves the events undone for the next run; after it, nothing is fanned out twice.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import Session

from tnrwatch.domain.sharing import Facts, SubscriptionFilter, Topic
from tnrwatch.services import alerts as alert_rules
from tnrwatch.services import incident_sharing
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed, read_scope
from tnrwatch.services.subscriptions import stored_filter
from tnrwatch.store.bulk import BulkWriter
from tnrwatch.store.models import (
    Account,
    Alert,
    AlertIncident,
    Delivery,
    InboxItem,
    Incident,
    IncidentLocation,
    IncidentOrigin,
    IncidentTactic,
    IncidentTarget,
    OutboxEvent,
    Subscription,
)
from tnrwatch.store.types import utcnow

EVENT_BATCH = 200  # outbox events fanned out per transaction, at most
# A transaction stops taking events once it has this many deliveries (an import's thousands of events, each matching
# thousands of subscriptions, would otherwise make one huge transaction).
MAX_DELIVERIES_PER_BATCH = 20_000
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class _Subscriber:
    """An active subscription of an enabled account, ready to match."""

    id: int
    account_id: int
    principal: Principal
    filter: SubscriptionFilter
    channels: tuple[str, ...]


@dataclass
class SubscriptionIndex:
    """Active subscriptions by topic and by one filter value each, so that an event looks at the few that could
    match instead of all of them. A subscription is filed under every value of ONE of its lists (origins first, then
    hosts, tactics, target categories): any match needs one of those values. One with no such list (topics and
    levels only) is a candidate for every event of its topics. `SubscriptionFilter.matches` decides."""

    keyed: dict[tuple[str, str, str], list[_Subscriber]] = field(default_factory=lambda: defaultdict(list))
    unkeyed: dict[str, list[_Subscriber]] = field(default_factory=lambda: defaultdict(list))
    size: int = 0

    _DIMENSIONS = ("origins", "hosts", "tactics", "target_categories")

    def add(self, subscriber: _Subscriber) -> None:
        self.size += 1
        wanted = subscriber.filter
        for topic in wanted.topics:
            for dimension in self._DIMENSIONS:
                values: list[str] = getattr(wanted, dimension)
                if values:
                    for value in values:
                        self.keyed[(topic, dimension, value)].append(subscriber)
                    break
            else:
                self.unkeyed[topic].append(subscriber)

    def matching(self, facts: Facts) -> list[_Subscriber]:
        candidates: dict[int, _Subscriber] = {s.id: s for s in self.unkeyed.get(facts.topic, ())}
        for dimension in self._DIMENSIONS:
            for value in getattr(facts, dimension):
                for subscriber in self.keyed.get((facts.topic, dimension, value), ()):
                    candidates[subscriber.id] = subscriber
        return [s for s in candidates.values() if s.filter.matches(facts)]


@dataclass(frozen=True)
class Subject:
    """An event's incident or alert: what it offers subscriptions, and what decides who may read it."""

    facts: Facts
    row_id: int
    jurisdiction: str | None = None  # incidents: the owner, with the marking and the sharing state
    tlp: str = "red"
    shared_with_eu: bool = False


@dataclass(frozen=True)
class FanOut:
    events: int
    deliveries: int


def fan_out(node: Node, *, batch: int = EVENT_BATCH) -> FanOut:
    """Fan one batch of undone outbox events out into deliveries, in one transaction."""
    with node.store.reading() as session:  # most looks find nothing: then take no write lock
        if session.scalar(select(OutboxEvent.id).where(OutboxEvent.done_at.is_(None)).limit(1)) is None:
            return FanOut(0, 0)
    with node.store.writing() as session:
        events = session.execute(
            select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.subject_uuid)
            .where(OutboxEvent.done_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders nothing and holds the write lock
        ).all()
        if not events:
            return FanOut(0, 0)
        index = _cached_index(session, str(node.store.url))
        found = subjects(session, events) if index.size else {}
        now = utcnow()
        planned: list[tuple[int, _Subscriber, str]] = []  # (event id, subscriber, channel)
        done: list[int] = []
        for event_id, topic, subject_uuid in events:
            if len(planned) >= MAX_DELIVERIES_PER_BATCH:
                break  # the rest wait for the next transaction (still locked by this one until it commits)
            done.append(event_id)
            subject = found.get((topic, subject_uuid))
            if subject is None:
                continue  # gone since (or no subscriptions at all)
            readable: dict[tuple[str, str | None], bool] = {}
            for subscriber in index.matching(subject.facts):
                key = (subscriber.principal.role, subscriber.principal.jurisdiction)
                if key not in readable:
                    readable[key] = may_read(session, subscriber.principal, topic, subject)
                if readable[key]:
                    planned.extend((event_id, subscriber, channel) for channel in subscriber.channels)
        _write_deliveries(session, planned, events, now)
        # Pseudonymised CLEAR and GREEN incidents go to the partners' community, once per change (no partner: no-op).
        taken = set(done)
        incident_sharing.share_changed(session, node, [s for i, t, s in events if t == "incident" and i in taken])
        for start in range(0, len(done), _CHUNK):
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(done[start : start + _CHUNK]))
                .values(done_at=now)
                .execution_options(synchronize_session=False)
            )
        return FanOut(len(done), len(planned))


# The index is kept between batches while the set of active subscriptions of enabled accounts looks the same: same
# count, same sum of ids, same lowest and highest uuid (one query, a few milliseconds), and for at most a minute, so
# that a change no fingerprint sees (an account's role) takes effect soon. Sending checks readability again anyway.
_INDEXES: dict[str, tuple[tuple[Any, ...], float, SubscriptionIndex]] = {}
_INDEX_MAX_AGE = 60.0
_UUID_TEXT = cast(Subscription.uuid, String)  # PostgreSQL has no min() or max() of a uuid


def _cached_index(session: Session, key: str) -> SubscriptionIndex:
    fingerprint = tuple(
        session.execute(
            select(func.count(), func.sum(Subscription.id), func.min(_UUID_TEXT), func.max(_UUID_TEXT))
            .join(Account, Account.id == Subscription.account_id)
            .where(Subscription.active.is_(True), Account.disabled.is_(False))
        ).one()
    )
    now = time.monotonic()
    cached = _INDEXES.get(key)
    if cached is not None and cached[0] == fingerprint and now - cached[1] < _INDEX_MAX_AGE:
        return cached[2]
    index = _subscription_index(session)
    _INDEXES[key] = (fingerprint, now, index)
    return index


# A subscription's filter never changes once made (there is no edit; remove it and make another), so each process
# parses it once: reading and parsing 10,000 filters' JSON costs most of a batch otherwise. Keyed by the subscription's
# uuid, which no other subscription ever has (ids come back after a database is emptied; uuids do not).
_FILTERS: dict[uuid.UUID, SubscriptionFilter] = {}
_MAX_CACHED_FILTERS = 200_000


def _subscription_index(session: Session) -> SubscriptionIndex:
    index = SubscriptionIndex()
    rows = session.execute(
        select(
            Subscription.id,
            Subscription.uuid,
            Subscription.inbox,
            Subscription.email,
            Subscription.webhook_url,
            Account.id,
            Account.username,
            Account.role,
            Account.jurisdiction_code,
        )
        .join(Account, Account.id == Subscription.account_id)
        .where(Subscription.active.is_(True), Account.disabled.is_(False))
        .order_by(Subscription.id)
    ).all()
    _read_filters(session, [row[1] for row in rows if row[1] not in _FILTERS])
    for sub_id, sub_uuid, inbox, email, webhook, account_id, username, role, jurisdiction in rows:
        channels = tuple(
            channel for channel, on in (("inbox", inbox), ("email", bool(email)), ("webhook", bool(webhook))) if on
        )
        principal = Principal(account_id=account_id, username=username, role=role, jurisdiction=jurisdiction)
        index.add(_Subscriber(sub_id, account_id, principal, _FILTERS[sub_uuid], channels))
    return index


def _read_filters(session: Session, missing: Sequence[uuid.UUID]) -> None:
    if len(_FILTERS) + len(missing) > _MAX_CACHED_FILTERS:
        _FILTERS.clear()  # a node with this many subscriptions made and removed since start: begin again
    for chunk in _chunks(missing):
        for sub_uuid, stored in session.execute(
            select(Subscription.uuid, Subscription.filter).where(Subscription.uuid.in_(chunk))
        ):
            _FILTERS[sub_uuid] = stored_filter(stored)


def subjects(session: Session, events: Sequence[Any]) -> dict[tuple[str, uuid.UUID], Subject]:
    """The events' incidents and alerts with their facts, in a few statements for the whole batch."""
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for _, topic, subject_uuid in events:
        wanted[topic].add(subject_uuid)
    found: dict[tuple[str, uuid.UUID], Subject] = {}
    incidents: dict[int, Any] = {}
    for chunk in _chunks(sorted(wanted["incident"])):
        for row in session.execute(
            select(Incident.id, Incident.uuid, Incident.jurisdiction_code, Incident.tlp, Incident.shared_with_eu).where(
                Incident.uuid.in_(chunk)
            )
        ):
            incidents[row.id] = row
    codes = _codes(session, list(incidents))
    for row_id, row in incidents.items():
        found[("incident", row.uuid)] = Subject(
            _facts("incident", [codes[row_id]]), row_id, row.jurisdiction_code, row.tlp, row.shared_with_eu
        )
    alert_rows: dict[int, Any] = {}
    for chunk in _chunks(sorted(wanted["alert"])):
        for alert_row in session.execute(
            select(Alert.id, Alert.uuid, Alert.level, Alert.tlp).where(Alert.uuid.in_(chunk))
        ):
            alert_rows[alert_row.id] = alert_row
    linked: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(sorted(alert_rows)):
        for alert_id, incident_id in session.execute(
            select(AlertIncident.alert_id, AlertIncident.incident_id).where(AlertIncident.alert_id.in_(chunk))
        ):
            linked[alert_id].append(incident_id)
    alert_codes = _codes(session, sorted({i for ids in linked.values() for i in ids}))
    for alert_id, alert_row in alert_rows.items():
        facts = _facts("alert", [alert_codes[i] for i in linked[alert_id]], level=alert_row.level)
        found[("alert", alert_row.uuid)] = Subject(facts, alert_id, tlp=alert_row.tlp)
    return found


def _codes(session: Session, incident_ids: Sequence[int]) -> dict[int, dict[str, set[str]]]:
    """Per incident: origins, hosts (location countries), tactics and target categories."""
    codes: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    tables = (
        ("origins", IncidentOrigin.incident_id, IncidentOrigin.country),
        ("hosts", IncidentLocation.incident_id, IncidentLocation.country),
        ("tactics", IncidentTactic.incident_id, IncidentTactic.tactic),
        ("target_categories", IncidentTarget.incident_id, IncidentTarget.category),
    )
    for chunk in _chunks(list(incident_ids)):
        for name, owner, value in tables:
            for incident_id, code in session.execute(select(owner, value).where(owner.in_(chunk))):
                codes[incident_id][name].add(code)
    return codes


def _facts(topic: Topic, codes: Iterable[Mapping[str, set[str]]], level: str | None = None) -> Facts:
    union: dict[str, set[str]] = defaultdict(set)
    for one in codes:
        for name, values in one.items():
            union[name] |= values
    return Facts(
        topic=topic,
        origins=frozenset(union["origins"]),
        hosts=frozenset(union["hosts"]),
        tactics=frozenset(union["tactics"]),
        target_categories=frozenset(union["target_categories"]),
        level=level,
    )


def may_read(session: Session, principal: Principal, topic: str, subject: Subject) -> bool:
    """The read rules of the incident and alert services, for a subscriber."""
    if topic == "incident":
        return allowed(principal, "incident:read") and read_scope(principal).admits(
            subject.jurisdiction, subject.tlp, subject.shared_with_eu
        )
    return alert_rules.readable_by(session, principal, subject.row_id)


def _write_deliveries(
    session: Session, planned: Sequence[tuple[int, _Subscriber, str]], events: Sequence[Any], now: dt.datetime
) -> None:
    """The deliveries, and for the inbox channel the inbox item with its delivery already sent: one statement per
    table. Ids are reserved first, so the items can name their deliveries without reading them back."""
    if not planned:
        return
    writer = BulkWriter(session.connection())
    ids = writer.reserve_ids(Delivery.__tablename__, len(planned))
    by_event = {event_id: (topic, event_uuid) for event_id, topic, event_uuid in events}
    event_names = dict(
        session.execute(
            select(OutboxEvent.id, OutboxEvent.event).where(OutboxEvent.id.in_(sorted({e for e, _, _ in planned})))
        ).all()
    )
    deliveries = []
    items = []
    for delivery_id, (event_id, subscriber, channel) in zip(ids, planned, strict=True):
        inbox = channel == "inbox"
        deliveries.append(
            (
                delivery_id,
                uuid.uuid4(),
                event_id,
                subscriber.id,
                channel,
                "sent" if inbox else "pending",
                1 if inbox else 0,
                now,
                now,
                now if inbox else None,
            )
        )
        if inbox:
            topic, subject_uuid = by_event[event_id]
            items.append(
                (subscriber.account_id, delivery_id, subscriber.id, topic, event_names[event_id], subject_uuid, now)
            )
    writer.insert(
        Delivery.__tablename__,
        (
            "id",
            "uuid",
            "event_id",
            "subscription_id",
            "channel",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "sent_at",
        ),
        deliveries,
    )
    writer.insert(
        InboxItem.__tablename__,
        ("account_id", "delivery_id", "subscription_id", "topic", "event", "subject_uuid", "created_at"),
        items,
    )


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
