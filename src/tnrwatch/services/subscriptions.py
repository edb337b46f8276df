"""Subscriptions, the inbox and the delivery log, as a staff account sees them (the worker that delivers is
services/delivery.py).

A subscription belongs to the account that made it: nobody else lists, reads or removes it (another's is "not found",
as if it did not exist). Removing one deactivates it (its delivery log stays) and drops its deliveries still waiting.
The webhook secret is generated here and shown once, in the answer to the call that creates the subscription.
Changes are audited by field name, never by value (no address, no filter).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any, Literal, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tnrwatch.domain.sharing import SubscriptionFilter
from tnrwatch.domain.subscription import (
    Channel,
    DeliveryOut,
    DeliveryStatus,
    InboxItemOut,
    SubscriptionIn,
    SubscriptionOut,
)
from tnrwatch.domain.validation import validate
from tnrwatch.errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal, require
from tnrwatch.store.models import Delivery, InboxItem, OutboxEvent, Subscription
from tnrwatch.store.types import utcnow

MAX_SUBSCRIPTIONS_PER_ACCOUNT = 100
MAX_PAGE = 500
REMOVED = "subscription removed"  # the delivery log's reason for a delivery dropped with its subscription


def create_subscription(node: Node, principal: Principal, raw: Mapping[str, Any] | SubscriptionIn) -> SubscriptionOut:
    """A new subscription of the principal's account. The answer holds the webhook secret (when a webhook is
    given): the only time it is shown."""
    account_id = _account(principal)
    wanted = raw if isinstance(raw, SubscriptionIn) else validate(SubscriptionIn, raw, node.taxonomy, "subscription")
    if wanted.email and not node.settings.smtp_host:
        raise InvalidInputError(
            "the subscription is invalid",
            [
                FieldError(
                    ("email",), "this node sends no e-mail (TNRWATCH_SMTP_HOST is not set): use the inbox or a webhook"
                )
            ],
        )
    secret = secrets.token_urlsafe(32) if wanted.webhook_url else None
    with node.store.writing() as session:
        active = session.scalar(
            select(func.count()).where(Subscription.account_id == account_id, Subscription.active.is_(True))
        )
        if (active or 0) >= MAX_SUBSCRIPTIONS_PER_ACCOUNT:
            raise InvalidInputError(
                f"an account keeps at most {MAX_SUBSCRIPTIONS_PER_ACCOUNT} subscriptions: remove one first"
            )
        row = Subscription(
            uuid=uuid.uuid4(),
            account_id=account_id,
            name=wanted.name,
            filter=wanted.filter.model_dump(mode="json"),
            inbox=wanted.inbox,
            email=wanted.email,
            webhook_url=wanted.webhook_url,
            webhook_secret=secret,
            active=True,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        record_change(session, principal, "create", "subscription", row.uuid, wanted.model_fields_set)
        return _out(row).model_copy(update={"webhook_secret": secret})


def list_subscriptions(node: Node, principal: Principal, *, include_removed: bool = False) -> list[SubscriptionOut]:
    """The principal's own subscriptions, newest first."""
    account_id = _account(principal)
    with node.store.reading() as session:
        statement = select(Subscription).where(Subscription.account_id == account_id)
        if not include_removed:
            statement = statement.where(Subscription.active.is_(True))
        rows = session.scalars(statement.order_by(Subscription.created_at.desc(), Subscription.id.desc()))
        return [_out(row) for row in rows]


def get_subscription(node: Node, principal: Principal, subscription_uuid: uuid.UUID) -> SubscriptionOut:
    account_id = _account(principal)
    with node.store.reading() as session:
        return _out(_own(session, account_id, subscription_uuid))


def remove_subscription(node: Node, principal: Principal, subscription_uuid: uuid.UUID) -> SubscriptionOut:
    """Deactivate one of the principal's subscriptions: it matches nothing from now on, and its deliveries still
    waiting are dropped (dead, with the reason in the log). Removing it again changes nothing."""
    account_id = _account(principal)
    with node.store.writing() as session:
        row = _own(session, account_id, subscription_uuid)
        if row.active:
            row.active = False
            session.execute(
                update(Delivery)
                .where(Delivery.subscription_id == row.id, Delivery.status == "pending")
                .values(status="dead", last_error=REMOVED, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            record_change(session, principal, "remove", "subscription", row.uuid, ["active"])
        return _out(row)


# -- the inbox ---------------------------------------------------------------------------------------------------------


def list_inbox(
    node: Node, principal: Principal, *, unread_only: bool = False, limit: int = 100, before: int | None = None
) -> list[InboxItemOut]:
    """The principal's inbox, newest first; `before` (an item id) pages further back."""
    account_id = _account(principal)
    with node.store.reading() as session:
        statement = (
            select(InboxItem, Subscription.uuid, Subscription.name)
            .outerjoin(Subscription, Subscription.id == InboxItem.subscription_id)
            .where(InboxItem.account_id == account_id)
        )
        if unread_only:
            statement = statement.where(InboxItem.read_at.is_(None))
        if before is not None:
            statement = statement.where(InboxItem.id < before)
        rows = session.execute(statement.order_by(InboxItem.id.desc()).limit(min(limit, MAX_PAGE))).all()
        return [_inbox_out(item, sub_uuid, sub_name) for item, sub_uuid, sub_name in rows]


def unread_count(node: Node, principal: Principal) -> int:
    if principal.account_id is None:
        return 0
    require(principal, "subscription:manage")
    with node.store.reading() as session:
        count = session.scalar(
            select(func.count()).where(InboxItem.account_id == principal.account_id, InboxItem.read_at.is_(None))
        )
        return int(count or 0)


def mark_read(node: Node, principal: Principal, item_id: int) -> InboxItemOut:
    """Mark one of the principal's inbox items read (again: no change)."""
    account_id = _account(principal)
    with node.store.writing() as session:
        found = session.execute(
            select(InboxItem, Subscription.uuid, Subscription.name)
            .outerjoin(Subscription, Subscription.id == InboxItem.subscription_id)
            .where(InboxItem.id == item_id, InboxItem.account_id == account_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no inbox item {item_id}")
        item, sub_uuid, sub_name = found
        if item.read_at is None:
            item.read_at = utcnow()
        return _inbox_out(item, sub_uuid, sub_name)


def mark_all_read(node: Node, principal: Principal) -> int:
    """Mark every unread item of the principal's inbox read; how many were unread."""
    account_id = _account(principal)
    with node.store.writing() as session:
        result = session.execute(
            update(InboxItem)
            .where(InboxItem.account_id == account_id, InboxItem.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


# -- the delivery log --------------------------------------------------------------------------------------------------


def list_deliveries(
    node: Node,
    principal: Principal,
    *,
    subscription: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[DeliveryOut]:
    """The delivery log of the principal's own subscriptions (the operator's: every subscription's), newest first:
    status, attempts, next attempt, last error (a class or an HTTP status), when sent. Never what was said."""
    statement = (
        select(Delivery, Subscription.uuid, Subscription.name, OutboxEvent.topic, OutboxEvent.event)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
    )
    if principal.role != OPERATOR_ROLE:
        statement = statement.where(Subscription.account_id == _account(principal))
    if subscription is not None:
        statement = statement.where(Subscription.uuid == subscription)
    if status is not None:
        statement = statement.where(Delivery.status == status)
    with node.store.reading() as session:
        rows = session.execute(statement.order_by(Delivery.id.desc()).limit(min(limit, MAX_PAGE))).all()
    return [
        DeliveryOut(
            id=delivery.uuid,
            subscription_id=sub_uuid,
            subscription_name=sub_name,
            channel=cast(Channel, delivery.channel),
            topic=cast(Literal["incident", "alert"], topic),
            event=event,
            status=cast(DeliveryStatus, delivery.status),
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            sent_at=delivery.sent_at,
        )
        for delivery, sub_uuid, sub_name, topic, event in rows
    ]


# -- helpers -----------------------------------------------------------------------------------------------------------


def _account(principal: Principal) -> int:
    """The principal's account; subscriptions, inboxes and their logs belong to staff accounts only."""
    require(principal, "subscription:manage")
    if principal.account_id is None:
        raise ForbiddenError("subscriptions belong to staff accounts: the operator has none")
    return principal.account_id


def _own(session: Session, account_id: int, subscription_uuid: uuid.UUID) -> Subscription:
    row = session.scalar(
        select(Subscription).where(Subscription.uuid == subscription_uuid, Subscription.account_id == account_id)
    )
    if row is None:
        raise NotFoundError(f"no subscription with id {subscription_uuid}")
    return row


def _out(row: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.uuid,
        name=row.name,
        filter=stored_filter(row.filter),
        inbox=row.inbox,
        email=row.email,
        webhook_url=row.webhook_url,
        active=row.active,
        created_at=row.created_at,
    )


_NO_FILTER: dict[str, Any] = SubscriptionFilter().model_dump()


def stored_filter(data: Mapping[str, object]) -> SubscriptionFilter:
    """A filter as stored (validated when the subscription was made: not again, for every event). Every field is
    given: pydantic's defaults are slow to build one by one (it inspects each factory's signature every time)."""
    return SubscriptionFilter.model_construct(**{**_NO_FILTER, **cast(dict[str, Any], data)})


def _inbox_out(item: InboxItem, sub_uuid: uuid.UUID | None, sub_name: str | None) -> InboxItemOut:
    return InboxItemOut(
        id=item.id,
        topic=cast(Literal["incident", "alert"], item.topic),
        event=item.event,
        subject_id=item.subject_uuid,
        subscription_id=sub_uuid,
        subscription_name=sub_name,
        created_at=item.created_at,
        read_at=item.read_at,
    )
