"""The no-JavaScript mode (e.g. Tor Browser's "safest" setting): the same questions as plain HTML forms.

The form is read as a stream (python-multipart's push parser): text fields are kept in memory (each at most
64 KiB), and each file is encrypted chunk by chunk as it arrives, so no plaintext is ever written to disk, temporary
files included. The page says this mode is weaker: the server sees the plaintext in memory while it seals it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from tnrwatch.crypto.receipts import ReceiptError
from tnrwatch.errors import InvalidInputError, TnrwatchError
from tnrwatch.services import plain_reports
from tnrwatch.services.plain_reports import PlainFile, PlainReport
from tnrwatch.services.reports import Intake
from tnrwatch.web import i18n
from tnrwatch.web.public.common import get_intake, render
from tnrwatch.web.public.followup import follow_up_context
from tnrwatch.web.public.form import FAMILY_PHRASES, WANT_OPTIONS, WHO_OPTIONS
from tnrwatch.web.public.report import _form_context

log = logging.getLogger("tnrwatch.web.public")
router = APIRouter(include_in_schema=False)

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64
# What the reporter reads when a plain report fails (public/plain_error.html): a file too large and a focal point
# whose keys were all revoked since the form was loaded are worth telling apart from an unreadable form.
PLAIN_ERROR_CODES = {409: "no_key", 413: "too_large", 429: "busy"}
TEXT_FIELDS = (
    "description",
    "host_country",
    "place",
    "date",
    "approximately",
    "who_description",
    "origin_country",
    "responsible",
    "contact",
)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    media_type: str = "application/octet-stream"
    value: bytearray = field(default_factory=bytearray)
    file: PlainFile | None = None


class PlainFormReader:
    """Feeds a multipart body to python-multipart and seals file parts as their bytes arrive."""

    def __init__(self, report_for: Any, boundary: bytes) -> None:
        self.report_for = report_for  # called with the jurisdiction once it is known (it must come first)
        self.report: PlainReport | None = None
        self.fields: dict[str, list[str]] = {}
        self.entries: list[dict[str, Any]] = []
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._begin,
                "on_part_data": self._data,
                "on_part_end": self._end,
                "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
            },
        )

    def _begin(self) -> None:
        self._part = _Part()
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._part.filename = None if filename is None else filename.decode("utf-8", "replace")
        if filename is not None and self._part.name == "files":
            name = filename.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1][:200]
            if name:  # an empty file input sends a part with an empty name: no file
                report = self._report()
                media_type = self._headers.get("content-type", b"application/octet-stream").decode("latin-1")
                self._part.file = report.new_file(name, media_type[:100])

    def _report(self) -> PlainReport:
        if self.report is None:
            jurisdiction = (self.fields.get("jurisdiction") or [""])[0]
            self.report = self.report_for(jurisdiction)
        return self.report

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part.file is not None:
            self._part.file.write(data[start:end])
            return
        self._part.value.extend(data[start:end])
        if len(self._part.value) > MAX_FIELD_BYTES:
            raise InvalidInputError(f"the field {self._part.name!r} is longer than {MAX_FIELD_BYTES} bytes")

    def _end(self) -> None:
        if self._part.file is not None:
            self.entries.append(self._part.file.close())
            return
        if self._part.filename is None and self._part.name:
            if sum(len(v) for v in self.fields.values()) >= MAX_FIELDS:
                raise InvalidInputError("the form has too many fields")
            text = self._part.value.decode("utf-8", "replace")
            self.fields.setdefault(self._part.name, []).append(text)
            if self._part.name == "jurisdiction":
                self._report()

    def answers(self, language: str) -> tuple[dict[str, Any], bool]:
        def one(name: str) -> str:
            return (self.fields.get(name) or [""])[0].strip()

        families = [code for code in self.fields.get("tactic_families", []) if code in FAMILY_PHRASES]
        wants = [code for code in self.fields.get("wants", []) if code in dict(WANT_OPTIONS)]
        who = one("who") if one("who") in dict(WHO_OPTIONS) else ""
        date = one("date") or None
        answers = {
            "v": 1,
            "kind": "report",
            "language": language,
            "jurisdiction": one("jurisdiction"),
            "what": {"tactic_families": families, "description": one("description")},
            "where": {"host_country": one("host_country") or None, "place": one("place")},
            "when": {"date": date, "date_unknown": one("date_unknown") == "yes", "approximately": one("approximately")},
            "targeted": {"who": who, "description": one("who_description")},
            "responsible": {"origin_country": one("origin_country") or None, "description": one("responsible")},
            "wants": wants,
            "urgent": one("urgent") == "yes",
            "contact": one("contact"),
        }
        return answers, one("urgent") == "yes"


@router.get("/report/plain", response_class=HTMLResponse)
def plain_form(request: Request) -> HTMLResponse:
    node = request.app.state.node
    jurisdiction = request.query_params.get("jurisdiction")
    context = _form_context(node, request, jurisdiction, request.query_params.get("host"))
    return render(request, "public/report_plain.html", context)


@router.post("/report/plain", response_class=HTMLResponse)
async def plain_submit(request: Request, intake: Intake = Depends(get_intake)) -> HTMLResponse:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        return _plain_error(request, "unreadable", 400)
    reader = PlainFormReader(lambda code: PlainReport(intake, code), boundary)
    try:
        async for chunk in request.stream():
            await run_in_threadpool(reader.parser.write, chunk)
        reader.parser.finalize()
        if reader.report is None:
            raise InvalidInputError("the form named no jurisdiction")
        language = i18n.choose(request)[0].code
        answers, urgent = reader.answers(language)
        report = reader.report
        receipt, acknowledgement = await run_in_threadpool(report.finish, answers, reader.entries, urgent=urgent)
    except TnrwatchError as exc:
        if reader.report is not None:
            await run_in_threadpool(reader.report.discard)
        log.debug("public /report/plain answered %s: %s", exc.status, exc.message)
        return _plain_error(request, PLAIN_ERROR_CODES.get(exc.status, "unreadable"), exc.status)
    except Exception:
        if reader.report is not None:
            await run_in_threadpool(reader.report.discard)
        raise
    return render(
        request,
        "public/report_sent_plain.html",
        {"receipt": receipt, "acknowledge_by": acknowledgement.acknowledge_by.date().isoformat()},
    )


def _plain_error(request: Request, code: str, status: int) -> HTMLResponse:
    return render(request, "public/plain_error.html", {"code": code}, status_code=status if status < 500 else 400)


@router.post("/follow-up/plain", response_class=HTMLResponse)
def plain_follow_up(
    request: Request, receipt: str = Form(max_length=80), intake: Intake = Depends(get_intake)
) -> HTMLResponse:
    try:
        thread, _key = plain_reports.open_thread(intake, receipt)
    except ReceiptError as exc:
        context = {**follow_up_context(request), "receipt_error": str(exc)}
        return render(request, "public/followup.html", context, status_code=422)
    except TnrwatchError:
        context = {**follow_up_context(request), "receipt_error": "not_found"}
        return render(request, "public/followup.html", context, status_code=404)
    context = {**follow_up_context(request), "thread": thread, "receipt": receipt}
    return render(request, "public/followup_plain.html", context)


@router.post("/follow-up/plain/message", response_class=HTMLResponse)
def plain_message(
    request: Request,
    receipt: str = Form(max_length=80),
    text: str = Form(min_length=1, max_length=MAX_FIELD_BYTES),
    intake: Intake = Depends(get_intake),
) -> HTMLResponse:
    try:
        plain_reports.send_message(intake, receipt, text)
        thread, _key = plain_reports.open_thread(intake, receipt)
    except (ReceiptError, TnrwatchError):
        context = {**follow_up_context(request), "receipt_error": "not_found"}
        return render(request, "public/followup.html", context, status_code=404)
    context = {**follow_up_context(request), "thread": thread, "receipt": receipt, "sent": True}
    return render(request, "public/followup_plain.html", context)
