"""/app/api/reports/{id}/evidence: the JSON the case page's evidence section (static/staff-evidence.js) works with.

The officer's browser does all the decrypting and hashing of plaintext: it registers one of the report's attachments
as evidence after decrypting it, uploads documents, screenshots and web-page captures it encrypted with the report
key, and checks what it downloads against the SHA-256 taken at capture. The server hashes the ciphertext it holds
and keeps the custody log (services/evidence.py). It never fetches a captured page's address itself.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from tnrwatch.crypto import envelope
from tnrwatch.errors import FieldError, InvalidInputError, PayloadTooLargeError
from tnrwatch.services import evidence
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.public.schemas import B64
from tnrwatch.web.staff.session import csrf_header, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)
BASE = "/app/api/reports/{report_id}/evidence"
_SHA256 = r"^[0-9a-f]{64}$"


class AttachmentEvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    item_id: uuid.UUID
    attachment_id: uuid.UUID
    sha256: str = Field(pattern=_SHA256)
    size: int = Field(ge=0, lt=2**53)
    meta: B64


class ViewedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sha256: str = Field(pattern=_SHA256)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    recipient: str = Field(max_length=evidence.MAX_RECIPIENT_CHARS * 2)  # the service trims, then counts


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.get(BASE, dependencies=[staff_permits("report:read")])
def list_evidence(
    request: Request, report_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> dict[str, Any]:
    listed = evidence.list_items(_node(request), principal, report_id)
    return {
        "can_add": listed.can_add,
        "max_mb": _node(request).settings.max_evidence_mb,
        "items": [_item_json(item) for item in listed.items],
    }


@router.post(f"{BASE}/attachments", status_code=201, dependencies=[staff_permits("case:work"), Depends(csrf_header)])
def register_attachment(
    request: Request, report_id: uuid.UUID, body: AttachmentEvidenceIn, principal: Principal = Depends(staff_principal)
) -> dict[str, Any]:
    item = evidence.register_attachment(
        _node(request),
        principal,
        report_id,
        item_id=body.item_id,
        attachment_id=body.attachment_id,
        sha256=body.sha256,
        size=body.size,
        meta=body.meta,
    )
    return {"ok": True, "item": _item_json(item)}


@router.post(BASE, status_code=201, dependencies=[staff_permits("case:work"), Depends(csrf_header)])
async def upload_evidence(
    request: Request,
    report_id: uuid.UUID,
    item_id: uuid.UUID = Query(),
    kind: str = Query(max_length=16),
    sha256: str = Query(pattern=_SHA256),
    size: int = Query(ge=0, lt=2**53),
    meta: str = Query(max_length=evidence.MAX_META_BYTES * 2),
    principal: Principal = Depends(staff_principal),
) -> dict[str, Any]:
    """The body is the file's ciphertext (encrypted in the browser with the report key); the query describes it."""
    node = _node(request)
    try:
        meta_bytes = envelope.b64decode(meta, field="meta")
    except envelope.EnvelopeError:
        raise InvalidInputError("meta is not base64", [FieldError(("query", "meta"), "base64")]) from None
    await run_in_threadpool(evidence.check_can_add, node, principal, report_id)  # before taking in a large file
    limit = envelope.encrypted_size(node.settings.max_evidence_mb * 1024 * 1024)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"an evidence file may be at most {node.settings.max_evidence_mb} MiB")
    part = evidence.part_path(node.settings)
    received = 0
    try:
        with part.open("xb") as out:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise PayloadTooLargeError(f"an evidence file may be at most {node.settings.max_evidence_mb} MiB")
                out.write(chunk)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    item = await run_in_threadpool(
        lambda: evidence.add_upload(
            node,
            principal,
            report_id,
            item_id=item_id,
            kind=kind,
            sha256=sha256,
            size=size,
            meta=meta_bytes,
            part=part,
        )
    )
    return {"ok": True, "item": _item_json(item)}


@router.get(BASE + "/{item_id}/file", dependencies=[staff_permits("report:read")])
def evidence_file(
    request: Request, report_id: uuid.UUID, item_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> FileResponse:
    path = evidence.open_file(_node(request), principal, report_id, item_id)
    return FileResponse(path, media_type="application/octet-stream")


@router.post(
    BASE + "/{item_id}/viewed", status_code=201, dependencies=[staff_permits("report:read"), Depends(csrf_header)]
)
def evidence_viewed(
    request: Request,
    report_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ViewedIn,
    principal: Principal = Depends(staff_principal),
) -> dict[str, Any]:
    event = evidence.record_viewed(_node(request), principal, report_id, item_id, body.sha256)
    return {"ok": True, "event": _event_json(event)}


@router.post(
    BASE + "/{item_id}/transfers", status_code=201, dependencies=[staff_permits("case:work"), Depends(csrf_header)]
)
def evidence_transferred(
    request: Request,
    report_id: uuid.UUID,
    item_id: uuid.UUID,
    body: TransferIn,
    principal: Principal = Depends(staff_principal),
) -> dict[str, Any]:
    event = evidence.transfer(_node(request), principal, report_id, item_id, body.recipient)
    return {"ok": True, "event": _event_json(event)}


def _item_json(item: evidence.EvidenceOut) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "kind": item.kind,
        "attachment_id": None if item.attachment_id is None else str(item.attachment_id),
        "sha256": item.sha256,
        "size": item.size,
        "ciphertext_sha256": item.ciphertext_sha256,
        "ciphertext_size": item.ciphertext_size,
        "meta": base64.b64encode(item.meta).decode(),
        "captured_at": item.captured_at.isoformat(),
        "problem": item.problem,
        "events": [_event_json(event) for event in item.events],
    }


def _event_json(event: evidence.CustodyOut) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "username": event.username,
        "action": event.action,
        "detail": event.detail,
        "hash": event.hash,
    }
