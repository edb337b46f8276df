"""The one place where writes are recorded: who changed what, when. Field names only, never values."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Change
from tnrwatch.store.types import utcnow


def record_change(
    session: Session,
    principal: Principal,
    action: str,
    entity: str,
    entity_uuid: uuid.UUID | None = None,
    fields: Iterable[str] = (),
    *,
    count: int = 1,
    note: str = "",
) -> None:
    """Add a change record to the caller's transaction, so that it commits or rolls back with the change itself."""
    session.add(
        Change(
            at=utcnow(),
            account_id=principal.account_id,
            action=action,
            entity=entity,
            entity_uuid=entity_uuid,
            fields=sorted(fields),
            count=count,
            note=note or ("via the command line" if principal.account_id is None else ""),
        )
    )
