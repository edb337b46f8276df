"""Objects partner nodes send to this node over TAXII (POST to the inbox collection), and the status resources that
say what became of them.

Each object in the envelope is checked for what the store needs (a type, an id of that type, well-formed
timestamps); the well-formed ones go to the STIX importer (services/stix_import.py), which takes each on its own,
keeps every version received in the partner's received collection and passes on what the TLP rule allows. The
status resource lists each object as a success (added, updated or unchanged) or a failure with its reason, and
belongs to the partner that sent the request: no other partner reads it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tnrwatch.domain.sharing import PartnerView
from tnrwatch.errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import stix_import
from tnrwatch.services.node import Node
from tnrwatch.services.taxii import CollectionInfo, parse_object, stix_timestamp
from tnrwatch.store.models import Partner, TaxiiStatus
from tnrwatch.store.types import utcnow


@dataclass(frozen=True)
class StatusOut:
    id: uuid.UUID
    status: str
    request_timestamp: dt.datetime
    successes: list[dict[str, object]]
    failures: list[dict[str, object]]
    pendings: list[dict[str, object]]

    def as_json(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "status": self.status,
            "request_timestamp": stix_timestamp(self.request_timestamp, micro=True),
            "total_count": len(self.successes) + len(self.failures) + len(self.pendings),
            "success_count": len(self.successes),
            "successes": self.successes,
            "failure_count": len(self.failures),
            "failures": self.failures,
            "pending_count": len(self.pendings),
            "pendings": self.pendings,
        }


def receive_objects(node: Node, partner: PartnerView, collection: CollectionInfo, envelope: object) -> StatusOut:
    """Take the objects a partner POSTed in a TAXII envelope (or a STIX bundle): the well-formed ones go to the
    importer, each is a success or a failure with its reason. Returns the status resource, complete."""
    if not collection.can_write:
        raise ForbiddenError("this collection cannot be written to")
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get("objects"), list):
        raise InvalidInputError(
            "the body is not a TAXII envelope", [FieldError(("objects",), "expected a list of STIX objects")]
        )
    objects: list[object] = envelope["objects"]
    now = utcnow()
    good: list[Mapping[str, Any]] = []
    failures: list[dict[str, object]] = []
    for position, obj in enumerate(objects):
        try:
            parse_object(obj)
        except ValueError as exc:
            failures.append(_entry(obj, f"object {position}: {exc}"))
        else:
            assert isinstance(obj, Mapping)
            good.append(obj)
    successes: list[dict[str, object]] = []
    if good:
        report = stix_import.import_objects(node, good, source_partner=partner.name)
        for outcome in report.outcomes:
            entry: dict[str, object] = {"id": outcome.id, "message": outcome.message or outcome.outcome}
            if outcome.modified:
                entry["version"] = outcome.modified
            (failures if outcome.outcome == "failed" else successes).append(entry)
    with node.store.writing() as session:
        status = TaxiiStatus(
            id=uuid.uuid4(),
            partner_id=_partner_id(session, partner.name),
            collection=collection.key,
            status="complete",
            request_timestamp=now,
            successes=successes,
            failures=failures,
            pendings=[],
        )
        session.add(status)
        return _status_out(status)


def get_status(node: Node, partner: PartnerView, status_id: uuid.UUID) -> StatusOut:
    """A status resource the partner's own request made; NotFoundError for any other."""
    with node.store.reading() as session:
        row = session.get(TaxiiStatus, status_id)
        if row is None or row.partner_id is None or row.partner_id != _partner_id(session, partner.name):
            raise NotFoundError("no status with this id")
        return _status_out(row)


def _partner_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Partner.id).where(Partner.name == name))


def _entry(obj: object, message: str) -> dict[str, object]:
    """A status entry for an object that could not be read: its id and version as far as it has them."""
    entry: dict[str, object] = {"message": message}
    if isinstance(obj, Mapping):
        if isinstance(obj.get("id"), str):
            entry["id"] = str(obj["id"])[:100]
        version = obj.get("modified") or obj.get("created")
        if isinstance(version, str):
            entry["version"] = version[:40]
    entry.setdefault("id", "")
    return entry


def _status_out(row: TaxiiStatus) -> StatusOut:
    return StatusOut(
        id=row.id,
        status=row.status,
        request_timestamp=row.request_timestamp,
        successes=list(row.successes),
        failures=list(row.failures),
        pendings=list(row.pendings),
    )
