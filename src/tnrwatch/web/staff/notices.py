"""/app/notices/{id}: the vetting sheet of one notice for the law-enforcement liaison (services/screening.py): the
notice, the registry and incident-target matches with their explanations, the Article 3 red flags with their
sources, the recommended action, and the form that records the decision and its reasons. The page prints as the
sheet's export (print CSS in staff.css): a PDF is the browser's "print to PDF", nothing is generated server-side.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tnrwatch.domain.notice import DecisionIn
from tnrwatch.domain.validation import try_validate
from tnrwatch.services import notices, screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.web.staff.session import csrf_form, render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)

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
    return render_staff(
        request,
        "staff/notice.html",
        {
            "principal": principal,
            "sheet": sheet,
            "notice": sheet.notice,
            "action_labels": ACTION_LABELS,
            "decision_labels": DECISION_LABELS,
            "may_decide": allowed(principal, "notice:write"),
            "decision_error": decision_error,
            "reasons": reasons,
        },
        status_code=status_code,
    )


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
