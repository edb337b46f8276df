"""/api/v1/subscriptions, /api/v1/inbox, /api/v1/deliveries: the account's saved searches and what they delivered
(services/subscriptions.py). Every route acts on the token's own account only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from tnrwatch.domain.subscription import DeliveryOut, DeliveryStatus, InboxItemOut, SubscriptionIn, SubscriptionOut
from tnrwatch.services import subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("subscriptions")
MANAGE = "subscription:manage"


@router.get(
    "/subscriptions",
    response_model=list[SubscriptionOut],
    summary="List your subscriptions",
    dependencies=[permits(MANAGE)],
)
def list_subscriptions(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    include_removed: Annotated[bool, Query(description="Also list removed subscriptions.")] = False,
) -> list[SubscriptionOut]:
    return subscriptions.list_subscriptions(node, principal, include_removed=include_removed)


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    summary="Subscribe to a saved search (the answer holds the webhook secret: the only time it is shown)",
    dependencies=[permits(MANAGE)],
)
def create_subscription(
    subscription: SubscriptionIn, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> SubscriptionOut:
    return subscriptions.create_subscription(node, principal, subscription)


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Read one of your subscriptions",
    dependencies=[permits(MANAGE)],
)
def get_subscription(
    subscription_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> SubscriptionOut:
    return subscriptions.get_subscription(node, principal, subscription_id)


@router.delete(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Remove one of your subscriptions (its deliveries still waiting are dropped; its log stays)",
    dependencies=[permits(MANAGE)],
)
def remove_subscription(
    subscription_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> SubscriptionOut:
    return subscriptions.remove_subscription(node, principal, subscription_id)


@router.get(
    "/inbox",
    response_model=list[InboxItemOut],
    summary="Your inbox, newest first",
    dependencies=[permits(MANAGE)],
)
def list_inbox(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    unread: Annotated[bool, Query(description="Only items not read yet.")] = False,
    limit: Annotated[int, Query(ge=1, le=subscriptions.MAX_PAGE)] = 100,
    before: Annotated[int | None, Query(ge=1, description="Items older than this item id (the next page).")] = None,
) -> list[InboxItemOut]:
    return subscriptions.list_inbox(node, principal, unread_only=unread, limit=limit, before=before)


@router.post(
    "/inbox/{item_id}/read",
    response_model=InboxItemOut,
    summary="Mark an item of your inbox read",
    dependencies=[permits(MANAGE)],
)
def mark_read(
    item_id: int, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> InboxItemOut:
    return subscriptions.mark_read(node, principal, item_id)


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="The delivery log of your subscriptions: status, attempts, next attempt, last error; never content",
    dependencies=[permits(MANAGE)],
)
def list_deliveries(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    subscription: Annotated[uuid.UUID | None, Query(description="Only this subscription's deliveries.")] = None,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=subscriptions.MAX_PAGE)] = 100,
) -> list[DeliveryOut]:
    return subscriptions.list_deliveries(node, principal, subscription=subscription, status=status, limit=limit)
