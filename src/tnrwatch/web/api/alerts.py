"""/api/v1/alerts: alerts to recipients (services/alerts.py): drafts, publishing, withdrawing, recipients' comments."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Depends, Query

from tnrwatch.domain.alert import AlertIn, AlertOut, CommentIn, CommentOut
from tnrwatch.services import alerts
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("alerts")


@router.get(
    "/alerts",
    response_model=list[AlertOut],
    summary="List the alerts you may read",
    dependencies=[permits("alert:read")],
)
def list_alerts(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    status: Annotated[Literal["draft", "published", "withdrawn"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    return alerts.list_alerts(node, principal, status=status, limit=limit)


@router.post(
    "/alerts",
    status_code=201,
    response_model=AlertOut,
    summary="Write a draft alert (a person publishes it with /publish)",
    dependencies=[permits("alert:write")],
)
def create_alert(
    alert: AlertIn, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> AlertOut:
    return alerts.create_alert(node, principal, alert)


@router.get(
    "/alerts/{alert_id}", response_model=AlertOut, summary="Read an alert", dependencies=[permits("alert:read")]
)
def get_alert(
    alert_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> AlertOut:
    return alerts.get_alert(node, principal, alert_id)


@router.post(
    "/alerts/{alert_id}/publish",
    response_model=AlertOut,
    summary="Publish a draft to its audience (its owner's staff only)",
    dependencies=[permits("alert:write")],
)
def publish_alert(
    alert_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> AlertOut:
    return alerts.publish_alert(node, principal, alert_id)


@router.post(
    "/alerts/{alert_id}/withdraw",
    response_model=AlertOut,
    summary="Withdraw a published alert, or drop a draft (its owner's staff only)",
    dependencies=[permits("alert:write")],
)
def withdraw_alert(
    alert_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> AlertOut:
    return alerts.withdraw_alert(node, principal, alert_id)


@router.post(
    "/alerts/{alert_id}/comments",
    status_code=201,
    response_model=CommentOut,
    summary="Add a corroboration note or an opinion to a published alert you received",
    dependencies=[permits("alert:read")],
)
def add_comment(
    alert_id: uuid.UUID,
    comment: CommentIn,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> CommentOut:
    return alerts.add_comment(node, principal, alert_id, comment)
