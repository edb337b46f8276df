"""/follow-up: with the receipt, the reporter reads replies and sends more messages and files.

The browser derives the lookup token and the reporter's key from the receipt and decrypts here on the page; the
receipt itself never reaches the server. Requests carry the lookup token in the body, never in the address.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import Field

from tnrwatch.services.jurisdictions import list_jurisdictions
from tnrwatch.services.node import Node
from tnrwatch.services.reports import AttachmentOut, Intake, Thread
from tnrwatch.web import i18n
from tnrwatch.web.public.common import PublicRoute, get_intake, render
from tnrwatch.web.public.form import answer_choices, country_choices, jurisdiction_label
from tnrwatch.web.public.schemas import B64, PowIn, Strict

router = APIRouter(route_class=PublicRoute, include_in_schema=False)


class LookupIn(Strict):
    lookup: B64


class MessageIn(Strict):
    lookup: B64
    message_id: uuid.UUID
    ciphertext: B64
    attachments: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    pow: PowIn


class AttachmentIn(Strict):
    lookup: B64
    attachment_id: uuid.UUID


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _attachment(attachment: AttachmentOut) -> dict[str, Any]:
    return {"id": str(attachment.id), "size": attachment.size}


def thread_json(thread: Thread) -> dict[str, Any]:
    """The JSON both the reporter's and the officer's page decrypt."""
    report = thread.report
    return {
        "report": {
            "id": str(report.id),
            "jurisdiction": report.jurisdiction,
            "received_at": report.received_at.isoformat(),
            "acknowledge_by": report.acknowledge_by.date().isoformat(),
            "status": report.status,
            "urgent": report.urgent,
            "mode": report.mode,
            "size": report.size,
        },
        "recipient": thread.recipient,
        "sealed_key": _b64(thread.sealed_key) if thread.sealed_key else None,
        "answers": _b64(thread.answers),
        "attachments": [_attachment(a) for a in thread.attachments],
        "messages": [
            {
                "id": str(m.id),
                "author": m.author,
                "sent_at": m.sent_at.isoformat(),
                "ciphertext": _b64(m.ciphertext),
                "attachments": [_attachment(a) for a in m.attachments],
            }
            for m in thread.messages
        ],
    }


def follow_up_context(request: Request) -> dict[str, Any]:
    """What the follow-up pages need to show decrypted answers in words: the form's choices, the names of countries
    (in the reader's language) and of jurisdictions, and the limits for files sent with a reply."""
    node: Node = request.app.state.node
    return {
        "jurisdiction_names": {
            j.code: jurisdiction_label(j, i18n.choose(request)[0].code) for j in list_jurisdictions(node)
        },
        "choices": answer_choices(node.taxonomy),
        "countries": country_choices(i18n.choose(request)[0].code),
        "max_attachment_mb": node.settings.max_attachment_mb,
        "max_attachments": node.settings.max_attachments,
    }


@router.get("/follow-up", response_class=HTMLResponse)
def follow_up_page(request: Request) -> HTMLResponse:
    return render(request, "public/followup.html", follow_up_context(request))


@router.post("/follow-up/api/thread")
def thread(body: LookupIn, intake: Intake = Depends(get_intake)) -> dict[str, Any]:
    return thread_json(intake.reporter_thread(body.lookup))


@router.post("/follow-up/api/messages", status_code=201)
def send_message(body: MessageIn, intake: Intake = Depends(get_intake)) -> dict[str, Any]:
    message = intake.add_message(
        lookup=body.lookup,
        message_id=body.message_id,
        ciphertext=body.ciphertext,
        attachments=body.attachments,
        proof=body.pow.proof(),
    )
    return {"ok": True, "id": str(message.id), "sent_at": message.sent_at.isoformat()}


@router.post("/follow-up/api/attachment")
def attachment(body: AttachmentIn, intake: Intake = Depends(get_intake)) -> FileResponse:
    path = intake.reporter_attachment(body.lookup, body.attachment_id)
    return FileResponse(path, media_type="application/octet-stream")
