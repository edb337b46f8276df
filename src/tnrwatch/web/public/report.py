"""/report: the report form (encrypting in the browser), its intake API, and the no-JavaScript form."""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
import weakref
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tnrwatch.errors import PayloadTooLargeError
from tnrwatch.services.jurisdictions import JurisdictionOut, get_jurisdiction, list_jurisdictions, suggest_for_host
from tnrwatch.services.node import Node
from tnrwatch.services.reports import (
    MAX_DOCUMENT_BYTES,
    MAX_GROUP,
    MAX_PART_BYTES,
    Acknowledgement,
    Intake,
    ProofOfWork,
    SealedKey,
    Submission,
)
from tnrwatch.web import i18n
from tnrwatch.web.public.common import PublicRoute, get_intake, render
from tnrwatch.web.public.form import answer_choices, country_choices

router = APIRouter(route_class=PublicRoute, include_in_schema=False)


def _b64(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) > 2 * MAX_DOCUMENT_BYTES:
        raise ValueError("expected base64 text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


B64 = Annotated[bytes, BeforeValidator(_b64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PowIn(Strict):
    token: str = Field(max_length=100)
    counter: int = Field(ge=0, lt=2**53)

    def proof(self) -> ProofOfWork:
        return ProofOfWork(self.token, self.counter)


class SealedKeyIn(Strict):
    recipient: uuid.UUID
    sealed: B64


class ReportIn(Strict):
    report_id: uuid.UUID
    jurisdiction: str = Field(max_length=16)
    urgent: bool = False
    lookup: B64
    answers: B64
    keys: list[SealedKeyIn] = Field(max_length=100)
    reporter_key: B64
    attachments: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    pow: PowIn


class UploadIn(Strict):
    report_id: uuid.UUID
    attachment_id: uuid.UUID
    size: int = Field(ge=1)
    pow: PowIn


# -- the report itself: registered first, since FastAPI tries routes in order and this is the busiest one --------------


@router.post("/report/api/reports", status_code=201)
async def submit_report(request: Request) -> JSONResponse:
    """Parsed in one step (`model_validate_json`) and stored in one transaction with the reports that arrive with
    it (`_ReportGroups`). A body parameter, a `def` dependency and a `def` route cost FastAPI two hops to worker
    threads and a JSON parse of its own per report (docs/benchmarks.md, "Report intake"); the checks and the answers
    are the same."""
    if not _is_json(request.headers.get("content-type")):
        raise RequestValidationError([{"type": "content_type", "loc": ("body",), "msg": "expected JSON"}])
    try:
        body = ReportIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    submission = Submission(
        report_id=body.report_id,
        jurisdiction=body.jurisdiction,
        urgent=body.urgent,
        lookup=body.lookup,
        answers=body.answers,
        keys=[SealedKey(key.recipient, key.sealed) for key in body.keys],
        reporter_key=body.reporter_key,
        attachments=body.attachments,
        pow=body.pow.proof(),
    )
    acknowledgement = await _report_groups(request).submit(submission)
    return JSONResponse(
        {
            "ok": True,
            "received_at": acknowledgement.received_at.isoformat(),
            "acknowledge_by": acknowledgement.acknowledge_by.date().isoformat(),
        },
        status_code=201,
    )


# How long the writer waits for the next reports when fewer are waiting than it just wrote: on loopback, 2 ms let the
# answers to a group of 32 go out and most of the next 32 reports come in; 0.5 ms did not (docs/benchmarks.md).
GATHER_SECONDS = 0.002


class _ReportGroups:
    """Reports that arrive while a group is being written wait for the next group: one task hands each group to a
    worker thread (`Intake.submit_many`, one transaction) and resolves each request's future with its outcome, where
    a thread per request waiting for its own commit cost more than the reports' writing (docs/benchmarks.md,
    "Report intake"). One per event loop."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.waiting: list[tuple[Submission, asyncio.Future[Acknowledgement]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def submit(self, submission: Submission) -> Acknowledgement:
        future: asyncio.Future[Acknowledgement] = asyncio.get_running_loop().create_future()
        self.waiting.append((submission, future))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        previous = 0
        while self.waiting:
            if len(self.waiting) < previous:
                # The answers to the last group are going out and their senders' next reports are on their way: wait
                # for them a moment, as PostgreSQL's commit_delay does, rather than write a few reports on their own.
                await asyncio.sleep(GATHER_SECONDS)
            group, self.waiting = self.waiting[:MAX_GROUP], self.waiting[MAX_GROUP:]
            previous = len(group)
            try:
                submissions = [submission for submission, _ in group]
                outcomes: list[Acknowledgement | Exception] = list(
                    await run_in_threadpool(self.intake.submit_many, submissions)
                )
            except Exception as exc:  # the transaction failed: none of the group is stored
                outcomes = [exc] * len(group)
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # the request was cancelled; its report may still be stored
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


def _report_groups(request: Request) -> _ReportGroups:
    # Per event loop: futures belong to one, and a TestClient used without `with` runs a new loop for each request.
    groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ReportGroups] | None = getattr(
        request.app.state, "report_groups", None
    )
    if groups is None:
        groups = request.app.state.report_groups = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    if loop not in groups:
        groups[loop] = _ReportGroups(get_intake(request))
    return groups[loop]


def _is_json(content_type: str | None) -> bool:
    """What FastAPI reads as JSON: no content type, application/json or application/*+json. Anything else (a
    form, text/plain) is refused as FastAPI's body parameters refuse it."""
    if content_type is None:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


# -- pages ------------------------------------------------------------------------------------------------------------


def _form_context(node: Node, request: Request, jurisdiction: str | None, host: str | None) -> dict[str, Any]:
    jurisdictions = list_jurisdictions(node)
    chosen: JurisdictionOut | None = next((j for j in jurisdictions if j.code == jurisdiction), None)
    suggested = suggest_for_host(jurisdictions, host)
    language = i18n.choose(request)[0]
    return {
        "jurisdictions": jurisdictions,
        "receiving": [j for j in jurisdictions if j.can_receive],
        "chosen": chosen,
        "blocked": chosen if chosen is not None and not chosen.can_receive else None,
        "suggested": suggested,
        "choices": answer_choices(node.taxonomy),
        "countries": country_choices(language.code),
        "max_attachment_mb": node.settings.max_attachment_mb,
        "max_attachments": node.settings.max_attachments,
    }


@router.get("/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    jurisdiction: str | None = Query(None, max_length=16),
    host: str | None = Query(None, max_length=2),
    lang: str | None = Query(None, max_length=8),
) -> HTMLResponse:
    """The report form. It encrypts in the browser; without JavaScript it points to /report/plain."""
    node: Node = request.app.state.node
    context = _form_context(node, request, jurisdiction, host)
    return render(request, "public/report.html", context, 409 if context["blocked"] else 200)


# -- intake API -------------------------------------------------------------------------------------------------------


@router.get("/report/api/challenge")
def challenge(intake: Intake = Depends(get_intake)) -> dict[str, Any]:
    issued = intake.challenge()
    return {"token": issued.token, "bits": issued.bits, "expires": issued.expires}


@router.get("/report/api/jurisdictions/{code}")
def jurisdiction_keys(code: str, intake: Intake = Depends(get_intake)) -> dict[str, Any]:
    keys = intake.recipients(code)
    return {
        "code": code,
        "name": get_jurisdiction(intake.node, code).name,
        "keys": [{"id": str(key.id), "public_key": base64.b64encode(key.public_key).decode()} for key in keys],
    }


@router.post("/report/api/uploads", status_code=201)
def start_upload(body: UploadIn, intake: Intake = Depends(get_intake)) -> dict[str, Any]:
    intake.start_upload(body.report_id, body.attachment_id, body.size, body.pow.proof())
    return {"received": 0, "size": body.size, "max_part": MAX_PART_BYTES}


@router.get("/report/api/uploads/{attachment_id}")
def upload_status(attachment_id: uuid.UUID, intake: Intake = Depends(get_intake)) -> dict[str, Any]:
    received, size = intake.upload_status(attachment_id)
    return {"received": received, "size": size}


@router.put("/report/api/uploads/{attachment_id}")
async def upload_part(
    attachment_id: uuid.UUID,
    request: Request,
    offset: int = Query(ge=0),
    intake: Intake = Depends(get_intake),
) -> dict[str, Any]:
    data = await _read_body(request, MAX_PART_BYTES)
    received = await run_in_threadpool(intake.append_upload, attachment_id, offset, data)
    return {"received": received}


async def _read_body(request: Request, limit: int) -> bytes:
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise PayloadTooLargeError(f"send at most {limit} bytes per part")
    return bytes(chunks)
