"""/app/notices: the law-enforcement liaison's desk (services/notices.py, services/screening.py).

- /app/notices lists the notices, newest received first, filtered by type, requesting state and decision, a page at a
  time. Like every list of notices it never shows the subject: names are read on the sheet, where each read is audited.
- /app/notices/new enters one notice by hand, in the fields of Interpol's notice format (read by notice_form.py).
  Every bad field is named beside it at once and nothing typed is lost; rows for more names and charges come from a
  submit button, so the form works without JavaScript. A saved notice opens on its vetting sheet.
- /app/notices/{id} is the vetting sheet: the notice, the registry and incident-target matches with their
  explanations, the Article 3 red flags with their sources, the recommended action, and the decision form.
- /app/notices/{id}/sheet.pdf is the same sheet as a PDF, rendered here on the server by WeasyPrint from the same
  template with the print rules of staff.css (`sheet_pdf`). Screening for it is audited exactly as opening the page
  is. WeasyPrint fetches nothing but our own static files (`static_file`): rendering never touches the network.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tnrwatch.domain.countries import check_country_code, country_names
from tnrwatch.domain.notice import NOTICE_TYPES, DecisionIn, NoticeIn, NoticeSummary
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import ConflictError
from tnrwatch.services import notices, screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.web.staff.coding import FormValues, form_fields
from tnrwatch.web.staff.notice_form import (
    CHARGE_COLUMNS,
    MAX_CHARGE_ROWS,
    MAX_NAME_ROWS,
    NAME_COLUMNS,
    SCRIPTS,
    NoticeForm,
    collect_errors,
    field_label,
    parse_notice_form,
)
from tnrwatch.web.staff.session import csrf_form, render_staff, staff_permits, staff_principal
from tnrwatch.web.templating import templates

router = APIRouter(include_in_schema=False)
# WeasyPrint warns, on every rendering, about each screen-only rule of staff.css it does not read (media features,
# overflow, clip-path); those rules are meant for browsers. Its errors (a refused fetch, say) still reach the log.
logging.getLogger("weasyprint").setLevel(logging.ERROR)

LIST_PAGE = 50
TYPE_LABELS = {
    "red_notice": "Red notice",
    "blue_notice": "Blue notice",
    "diffusion": "Diffusion",
    "extradition_request": "Extradition request",
    "mutual_legal_assistance": "Mutual legal assistance request",
}
ACTION_LABELS = {
    "proceed": "Proceed",
    "consult_focal_point": "Consult the focal point",
    "do_not_act_pending_review": "Do not act pending review",
}
DECISION_LABELS = {
    "proceed": "Proceed",
    "consult_focal_point": "Consult the focal point",
    "do_not_act": "Do not act",
}


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


# -- the list ----------------------------------------------------------------------------------------------------------


@router.get("/app/notices", response_class=HTMLResponse, dependencies=[staff_permits("notice:read")])
def notices_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    notice_type: Literal[
        "", "red_notice", "blue_notice", "diffusion", "extradition_request", "mutual_legal_assistance"
    ] = "",
    state: str = Query("", max_length=60),
    decision: Literal["", "none", "proceed", "consult_focal_point", "do_not_act"] = "",
    page: int = Query(1, ge=1, le=100_000),
) -> HTMLResponse:
    """Newest received first, `LIST_PAGE` a page; one more is read to know whether a next page exists."""
    state_error = ""
    code: str | None = None
    if state.strip():
        try:
            code = check_country_code(state)
        except ValueError as exc:
            state_error = str(exc)
    found: list[NoticeSummary] = []
    if not state_error:
        found = notices.list_notices(
            _node(request),
            principal,
            decision=decision or None,
            requesting_state=code,
            notice_type=notice_type or None,
            limit=LIST_PAGE + 1,
            offset=(page - 1) * LIST_PAGE,
        )
    query = {k: v for k, v in {"notice_type": notice_type, "state": code or "", "decision": decision}.items() if v}

    def page_url(number: int) -> str:
        return "/app/notices?" + urlencode({**query, "page": number})

    return render_staff(
        request,
        "staff/notices.html",
        {
            "principal": principal,
            "notices": found[:LIST_PAGE],
            "page": page,
            "has_next": len(found) > LIST_PAGE,
            "page_url": page_url,
            "today": dt.datetime.now(dt.UTC).date(),
            "filters": {"notice_type": notice_type, "state": state, "decision": decision, "any": bool(query)},
            "state_error": state_error,
            "type_labels": TYPE_LABELS,
            "decision_labels": DECISION_LABELS,
            "may_write": allowed(principal, "notice:write"),
        },
    )


# -- entering one ------------------------------------------------------------------------------------------------------


def _form_page(
    request: Request,
    principal: Principal,
    form: NoticeForm,
    *,
    errors: Mapping[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render_staff(
        request,
        "staff/notice_new.html",
        {
            "principal": principal,
            "values": form.values,
            "name_rows": form.name_rows,
            "charge_rows": form.charge_rows,
            "max_name_rows": MAX_NAME_ROWS,
            "max_charge_rows": MAX_CHARGE_ROWS,
            "errors": dict(errors or {}),
            "field_label": field_label,
            "type_labels": TYPE_LABELS,
            "notice_types": NOTICE_TYPES,
            "scripts": SCRIPTS,
            "countries": country_names(),
        },
        status_code=status_code,
    )


@router.get("/app/notices/new", response_class=HTMLResponse, dependencies=[staff_permits("notice:write")])
def new_notice_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    return _form_page(request, principal, NoticeForm.blank())


@router.post("/app/notices", dependencies=[staff_permits("notice:write"), Depends(csrf_form)], response_model=None)
def create_notice(
    request: Request, posted: FormData = Depends(form_fields), principal: Principal = Depends(staff_principal)
) -> Response:
    """Save the notice and open its vetting sheet; or show the form again, as typed, with every problem beside its
    field. The "add a row" buttons post here too (`more`): the form comes back with one more blank row."""
    form = NoticeForm.read(FormValues.of(posted))
    more = form.values.one("more")
    if more in ("other_names", "charges"):
        rows, columns, limit = (
            (form.name_rows, NAME_COLUMNS, MAX_NAME_ROWS)
            if more == "other_names"
            else (form.charge_rows, CHARGE_COLUMNS, MAX_CHARGE_ROWS)
        )
        if len(rows) < limit:
            rows.append(dict.fromkeys(columns, ""))
        return _form_page(request, principal, form)
    node = _node(request)
    parsed = parse_notice_form(form)
    errors = parsed.errors
    checked = try_validate(NoticeIn, parsed.raw, node.taxonomy)
    if isinstance(checked, list):
        errors = collect_errors(errors, checked, parsed)
    elif not errors:
        try:
            created = notices.create_notice(node, principal, checked)
        except ConflictError as exc:
            errors["interpol_reference"] = [exc.message]
        else:
            return RedirectResponse(f"/app/notices/{created.id}", status_code=303)
    return _form_page(request, principal, form, errors=errors, status_code=422)


# -- the vetting sheet -------------------------------------------------------------------------------------------------


def _sheet_context(principal: Principal, sheet: screening.VettingSheet, *, pdf: bool = False) -> dict[str, Any]:
    return {
        "principal": principal,
        "sheet": sheet,
        "notice": sheet.notice,
        "type_labels": TYPE_LABELS,
        "action_labels": ACTION_LABELS,
        "decision_labels": DECISION_LABELS,
        "may_decide": allowed(principal, "notice:write") and not pdf,
        "pdf": pdf,
    }


def _sheet_page(
    request: Request,
    principal: Principal,
    notice_id: uuid.UUID,
    *,
    decision_error: str | None = None,
    reasons: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    sheet = screening.screen_notice(_node(request), principal, notice_id)
    context = _sheet_context(principal, sheet) | {"decision_error": decision_error, "reasons": reasons}
    return render_staff(request, "staff/notice.html", context, status_code=status_code)


@router.get("/app/notices/{notice_id}", response_class=HTMLResponse, dependencies=[staff_permits("notice:read")])
def notice_page(
    request: Request, notice_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> HTMLResponse:
    return _sheet_page(request, principal, notice_id)


@router.post(
    "/app/notices/{notice_id}/decision",
    dependencies=[staff_permits("notice:write"), Depends(csrf_form)],
    response_model=None,
)
def decide(
    request: Request,
    notice_id: uuid.UUID,
    decision: str = Form("", max_length=40),
    reasons: str = Form("", max_length=20000),
    principal: Principal = Depends(staff_principal),
) -> Response:
    result = try_validate(DecisionIn, {"decision": decision, "reasons": reasons}, _node(request).taxonomy)
    if isinstance(result, list):
        problems = "; ".join(f"{'Decision' if e.loc[:1] == ('decision',) else 'Reasons'}: {e.msg}" for e in result)
        return _sheet_page(request, principal, notice_id, decision_error=problems, reasons=reasons, status_code=422)
    notices.decide(_node(request), principal, notice_id, result)
    return RedirectResponse(f"/app/notices/{notice_id}#decision", status_code=303)


# -- the sheet as a PDF ------------------------------------------------------------------------------------------------

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# The address the PDF's HTML is read at. `.invalid` cannot resolve (RFC 2606); `static_file` answers for it.
PDF_BASE_URL = "https://tnrwatch.invalid/"


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and media type of our own static file at `url` (PDF_BASE_URL + "static/..."), the only thing the
    PDF may load. Any other address, on the network, in the file system or `data:`, raises `ValueError`, so that
    nothing that reaches the template can make the server fetch anything."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" != PDF_BASE_URL or not parts.path.startswith("/static/"):
        raise ValueError("the PDF may load only tnrwatch's own static files")
    path = (STATIC_DIR / unquote(parts.path.removeprefix("/static/"))).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise ValueError("no such static file")
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def render_pdf(html: str) -> bytes:
    """The HTML as a PDF, laid out by its print rules, in the system's fonts (fontconfig), fetching through
    `static_file` only. WeasyPrint is imported here rather than with the module: it loads pango and HarfBuzz
    (~0.7 s), which only this needs, and a node without them still serves every page."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type information
        def fetch(self, url: str, headers: Any = None) -> Any:
            body, media_type = static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": media_type})

    pdf: bytes = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf()
    return pdf


@router.get("/app/notices/{notice_id}/sheet.pdf", dependencies=[staff_permits("notice:read")], response_model=None)
def sheet_pdf(request: Request, notice_id: uuid.UUID, principal: Principal = Depends(staff_principal)) -> Response:
    """The vetting sheet as an attachment, never cached. The file name holds the reference, never a name."""
    sheet = screening.screen_notice(_node(request), principal, notice_id)
    html = templates.get_template("staff/notice.html").render(_sheet_context(principal, sheet, pdf=True))
    reference = (sheet.notice.interpol_reference or str(notice_id)[:8]).replace("/", "-")
    return Response(
        render_pdf(html),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="vetting-sheet-{reference}.pdf"',
            "Cache-Control": "no-store",
        },
    )
