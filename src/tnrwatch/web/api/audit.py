"""/api/v1/audit: the audit log for auditors, newest first, paged by id. Entries hold no values, names or content."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from tnrwatch.services import audit
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("audit")


@router.get(
    "/audit",
    response_model=audit.AuditPage,
    summary="Read the audit log (auditors and admins)",
    dependencies=[permits("audit:read")],
)
def list_audit(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    limit: Annotated[int, Query(ge=1, le=1000, description="Entries per page.")] = 50,
    before: Annotated[
        int | None, Query(ge=1, description="Entries with a smaller id than this: `next_before` of the last page.")
    ] = None,
    username: Annotated[str | None, Query(max_length=64, description="Only this account's entries.")] = None,
    entity: Annotated[str | None, Query(max_length=32, description="Only this kind of record, e.g. `report`.")] = None,
    action: Annotated[str | None, Query(max_length=32, description="Only this action, e.g. `read`.")] = None,
    entity_id: Annotated[uuid.UUID | None, Query(description="Only entries about this record.")] = None,
) -> audit.AuditPage:
    where = audit.AuditFilter(username=username, entity=entity, action=action, entity_uuid=entity_id)
    return audit.list_entries(node, principal, limit=limit, before=before, where=where)
