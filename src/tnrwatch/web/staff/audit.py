"""/app/audit: the audit log for auditors and administrators, newest first, filtered and paged, and a check of its
hash chain and seals on request. Entries name who did what to which record, when; never content or identities."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from tnrwatch.crypto.audit_key import fingerprint
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import audit
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.staff.session import render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)
PAGE = 50


def _uuid_or_none(text: str, field: str) -> uuid.UUID | None:
    if not text.strip():
        return None
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise InvalidInputError("the filter is invalid", [FieldError((field,), "not a record id")]) from None


@router.get("/app/audit", response_class=HTMLResponse, dependencies=[staff_permits("audit:read")])
def audit_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    username: str = Query("", max_length=64),
    entity: str = Query("", max_length=32),
    action: str = Query("", max_length=32),
    record: str = Query("", max_length=40),
    before: int | None = Query(None, ge=1),
    check: bool = Query(False),
) -> HTMLResponse:
    node: Node = request.app.state.node
    where = audit.AuditFilter(
        username=username.strip() or None,
        entity=entity.strip() or None,
        action=action.strip() or None,
        entity_uuid=_uuid_or_none(record, "record"),
    )
    page = audit.list_entries(node, principal, limit=PAGE, before=before, where=where)
    verified = audit.verify(node) if check else None
    return render_staff(
        request,
        "staff/audit.html",
        {
            "principal": principal,
            "page": page,
            "filters": {"username": username, "entity": entity, "action": action, "record": record},
            "verified": verified,
            "key": fingerprint(audit.public_key(node)) if verified is not None else None,
        },
    )
