"""/report: the report form (encrypting in the browser), its intake API, and the no-JavaScript form."""

from __future__ import annotations

import asyncio
import base64
import uuid
import weakref
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from tnrwatch.errors import PayloadTooLargeError
from tnrwatch.services.jurisdictions import JurisdictionOut, get_jurisdiction, list_jurisdictions, suggest_for_host
from tnrwatch.services.node import Node
from tnrwatch.services.reports import MAX_PART_BYTES, Intake
from tnrwatch.web import i18n
from tnrwatch.web.public.common import PublicRoute, get_intake, intake_of, log_refusal, render
from tnrwatch.web.public.form import answer_choices, country_choices
from tnrwatch.web.public.intake_writer import MAX_BODY_BYTES, ReportWriter
from tnrwatch.web.public.schemas import UploadIn

router = APIRouter(route_class=PublicRoute, include_in_schema=False)
REPORTS_ROUTE = "/report/api/reports"


# -- the report itself: registered first, since FastAPI tries routes in order and this is the busiest one --------------


@router.post(REPORTS_ROUTE, status_code=201)
async def submit_report(request: Request) -> JSONResponse:
    """The body goes as it came to the report writer process, which parses it (`ReportIn`), stores it with the
    reports that arrive with it (one transaction) and answers (`intake_writer`). A body parameter, a `def`
    dependency and a `def` route cost FastAPI two hops to worker threads and a JSON parse of its own per report
    (docs/benchmarks.md, "Report intake")."""
    if not _is_json(request.headers.get("content-type")):
        raise RequestValidationError([{"type": "content_type", "loc": ("body",), "msg": "expected JSON"}])
    body = await _read_body(request, MAX_BODY_BYTES)
    status, answer, reason = await report_writer(request.app).submit(body)
    if reason:
        log_refusal(REPORTS_ROUTE, status, reason)
    return JSONResponse(answer, status_code=status)


def report_writer(app: FastAPI) -> ReportWriter:
    """This event loop's report writer (its futures belong to one loop; a TestClient used without `with` runs a
    new loop for each request), made on first use after the node's intake keys, which the writer process reads."""
    writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReportWriter] | None = getattr(
        app.state, "report_writers", None
    )
    if writers is None:
        writers = app.state.report_writers = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    if loop not in writers:
        intake_of(app)
        writers[loop] = ReportWriter(app.state.node.settings)
    return writers[loop]


async def stop_report_writers(app: FastAPI) -> None:
    """Stop the writer processes: this loop's after it has answered what it holds, others' (their loops are gone)
    at once."""
    writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReportWriter] = getattr(
        app.state, "report_writers", weakref.WeakKeyDictionary()
    )
    loop = asyncio.get_running_loop()
    for writer_loop, writer in list(writers.items()):
        if writer_loop is loop:
            await writer.close()
        else:
            writer.kill()
    writers.clear()


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
