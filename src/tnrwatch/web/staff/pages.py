"""/app: officers sign in (password and TOTP code), see their jurisdiction's reports (metadata only) and read them
in the browser.

The server hands out ciphertext, the officer's sealed copy of the report key and their wrapped private key; the
page unlocks the key with the passphrase and decrypts there (static/staff-report.js). Replies are encrypted in the
page with the report key as well.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tnrwatch.domain import cases as case_states
from tnrwatch.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotAuthenticatedError,
    TnrwatchError,
    TooManyRequestsError,
)
from tnrwatch.services import cases, coding, recipient_keys, staff_auth
from tnrwatch.services.jurisdictions import list_jurisdictions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.web.public.common import get_intake
from tnrwatch.web.public.followup import thread_json
from tnrwatch.web.public.schemas import B64
from tnrwatch.web.staff.session import (
    COOKIE,
    csrf_form,
    csrf_header,
    render_staff,
    same_site_form,
    staff_permits,
    staff_principal,
    staff_secret,
)

router = APIRouter(include_in_schema=False)
INBOX_PAGE = 50


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    message_id: uuid.UUID
    ciphertext: B64


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: uuid.UUID
    public_key: B64
    wrapped_private_key: dict[str, Any]
    label: str = Field("", max_length=120)


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.get("/app/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> HTMLResponse:
    everywhere = request.query_params.get("signed-out") == "everywhere"
    return render_staff(request, "staff/sign_in.html", {"error": None, "signed_out_everywhere": everywhere})


@router.post("/app/sign-in", response_class=HTMLResponse, dependencies=[Depends(same_site_form)])
def sign_in(
    request: Request,
    username: str = Form(max_length=64),
    password: str = Form(max_length=1024),
    code: str = Form("", max_length=16),
) -> Response:
    try:
        signed_in = staff_auth.sign_in(_node(request), username, password, code)
    except TooManyRequestsError as exc:
        return _sign_in_refused(request, exc.message, 429, title="Sign-in is paused")
    except staff_auth.NotEnrolledError as exc:
        return _sign_in_refused(request, exc.message, 401)
    except NotAuthenticatedError as exc:
        return _sign_in_refused(request, exc.message, 401, check_hint=True)
    response = RedirectResponse(HOME_PAGES.get(signed_in.principal.role, "/app/reports"), status_code=303)
    response.set_cookie(
        COOKIE,
        signed_in.secret,
        max_age=_node(request).settings.staff_session_hours * 3600,
        path="/app",
        secure=_node(request).settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


def _sign_in_refused(
    request: Request, message: str, status_code: int, *, title: str = "You are not signed in", check_hint: bool = False
) -> HTMLResponse:
    context = {"error": message, "error_title": title, "check_hint": check_hint}
    return render_staff(request, "staff/sign_in.html", context, status_code=status_code)


@router.post("/app/sign-out", dependencies=[Depends(csrf_form)])
def sign_out(request: Request) -> Response:
    staff_auth.sign_out(_node(request), staff_secret(request))
    return _signed_out("/app/sign-in")


@router.post("/app/sign-out-everywhere", dependencies=[Depends(csrf_form)])
def sign_out_everywhere(request: Request, principal: Principal = Depends(staff_principal)) -> Response:
    """For a lost laptop or a session left open elsewhere: ends every session of the account, this one included."""
    staff_auth.sign_out_everywhere(_node(request), principal)
    return _signed_out("/app/sign-in?signed-out=everywhere")


def _signed_out(location: str) -> Response:
    response = RedirectResponse(location, status_code=303)
    response.delete_cookie(COOKIE, path="/app")
    return response


# Where a role lands after signing in: the page of its work (a caseworker's is the reports inbox).
HOME_PAGES = {"liaison": "/app/notices", "auditor": "/app/audit"}


@router.get("/app", response_class=HTMLResponse)
@router.get("/app/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    status: str | None = Query(None, max_length=24),
    urgent: Literal["", "yes", "no"] = "",
    overdue: bool = False,
    mine: bool = False,
    page: int = Query(1, ge=1, le=100_000),
) -> HTMLResponse:
    """The inbox: the jurisdiction's reports and those referred to it, urgent first, then by deadline."""
    node = _node(request)
    keys = recipient_keys.list_keys(node, username=principal.username)
    context: dict[str, Any] = {
        "principal": principal,
        "keys": [k for k in keys if k.status == "active"],
        "states": case_states.STATES,
        "labels": case_states.LABELS,
        "acknowledge_days": node.settings.acknowledge_days,
        "filters": {"status": status or "", "urgent": urgent, "overdue": overdue, "mine": mine},
    }
    context["filters"]["any"] = bool(status or urgent or overdue or mine)
    if not allowed(principal, "report:read") or principal.jurisdiction is None:
        empty = cases.Inbox((), 0, 0, 0)
        return render_staff(request, "staff/reports.html", {**context, "inbox": empty, "page": 1, "pages": 1})
    inbox = cases.inbox(
        node,
        principal,
        status=status or None,
        urgent={"yes": True, "no": False}.get(urgent),
        overdue=overdue,
        mine=mine,
        limit=INBOX_PAGE,
        offset=(page - 1) * INBOX_PAGE,
    )
    query = {k: v for k, v in {"status": status, "urgent": urgent, "overdue": overdue, "mine": mine}.items() if v}

    def page_url(number: int) -> str:
        return "/app/reports?" + urlencode({**{k: "1" if v is True else v for k, v in query.items()}, "page": number})

    return render_staff(
        request,
        "staff/reports.html",
        {
            **context,
            "inbox": inbox,
            "officers": cases.usernames(node, principal),
            "page": page,
            "pages": max(1, -(-inbox.total // INBOX_PAGE)),
            "page_url": page_url,
        },
    )


@router.get("/app/reports/{report_id}", response_class=HTMLResponse, dependencies=[staff_permits("report:read")])
def report_page(
    request: Request,
    report_id: uuid.UUID,
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> HTMLResponse:
    return _report_page(request, principal, intake, report_id)


def _report_page(
    request: Request,
    principal: Principal,
    intake: Intake,
    report_id: uuid.UUID,
    *,
    case_error: str | None = None,
    coding_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    thread, key = intake.officer_thread(principal, report_id)
    case = cases.view(_node(request), principal, report_id)
    targets = [j for j in list_jurisdictions(_node(request)) if j.can_receive and j.code != principal.jurisdiction]
    return render_staff(
        request,
        "staff/report.html",
        {
            "principal": principal,
            "report": thread.report,
            "has_key": key is not None,
            "now": dt.datetime.now(dt.UTC),
            "labels": case_states.LABELS,
            "owner": case.owner,
            "moves": case.moves,
            "history": case.history,
            "referrals": case.referrals,
            "assigned_name": case.assigned_to,
            "colleagues": case.colleagues,
            "referral_kinds": case_states.REFERRAL_KINDS,
            "share_targets": targets,
            "case_error": case_error,
            "coding": coding.case_section(_node(request), principal, report_id),
            "coding_error": coding_error,
        },
        status_code=status_code,
    )


@router.post("/app/reports/{report_id}/status", dependencies=[staff_permits("case:work"), Depends(csrf_form)])
def move_case(
    request: Request,
    report_id: uuid.UUID,
    status: str = Form(max_length=24),
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> Response:
    return _case_action(
        request, principal, intake, report_id, lambda: cases.move(_node(request), principal, report_id, status)
    )


@router.post("/app/reports/{report_id}/assign", dependencies=[staff_permits("case:work"), Depends(csrf_form)])
def assign_case(
    request: Request,
    report_id: uuid.UUID,
    username: str = Form("", max_length=64),
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> Response:
    return _case_action(
        request,
        principal,
        intake,
        report_id,
        lambda: cases.assign(_node(request), principal, report_id, username or None),
    )


@router.post("/app/reports/{report_id}/referrals", dependencies=[staff_permits("case:work"), Depends(csrf_form)])
def refer_case(
    request: Request,
    report_id: uuid.UUID,
    kind: str = Form(max_length=16),
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> Response:
    """Referrals that send nothing (police, protection, legal aid); sharing with a focal point is the script's."""
    return _case_action(
        request, principal, intake, report_id, lambda: cases.refer(_node(request), principal, report_id, kind)
    )


def _case_action(
    request: Request, principal: Principal, intake: Intake, report_id: uuid.UUID, action: Callable[[], object]
) -> Response:
    """Do a case action from a form, then show the report again: after a redirect, or at once with the refusal."""
    try:
        action()
    except (ConflictError, InvalidInputError, ForbiddenError) as exc:
        return _report_page(request, principal, intake, report_id, case_error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/app/reports/{report_id}#case-title", status_code=303)


@router.get("/app/dashboard", response_class=HTMLResponse, dependencies=[staff_permits("case:supervise")])
def dashboard_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    board = cases.dashboard(_node(request), principal)
    hours = sorted(board.urgent_first_action_hours)
    median = hours[len(hours) // 2] if hours else None
    context = {
        "principal": principal,
        "board": board,
        "labels": case_states.LABELS,
        "acknowledge_days": _node(request).settings.acknowledge_days,
        "median_hours": median,
    }
    return render_staff(request, "staff/dashboard.html", context)


@router.get("/app/keys", response_class=HTMLResponse)
def keys_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    keys = recipient_keys.list_keys(_node(request), username=principal.username)
    return render_staff(
        request,
        "staff/keys.html",
        {"principal": principal, "keys": keys, "strength": _node(request).settings.key_wrap_strength},
    )


# -- JSON for the pages' scripts ---------------------------------------------------------------------------------------


@router.get("/app/api/reports/{report_id}", dependencies=[staff_permits("report:read")])
def report_json(
    report_id: uuid.UUID, principal: Principal = Depends(staff_principal), intake: Intake = Depends(get_intake)
) -> dict[str, Any]:
    thread, key = intake.officer_thread(principal, report_id)
    data = thread_json(thread)
    data["key"] = None
    if key is not None:
        found = recipient_keys.get_key(intake.node, key.id)
        data["key"] = {
            "id": str(found.id),
            "public_key": base64.b64encode(found.public_key).decode(),
            "wrapped_private_key": found.wrapped_private_key,
        }
    return data


@router.get("/app/api/reports/{report_id}/attachments/{attachment_id}", dependencies=[staff_permits("report:read")])
def report_attachment(
    report_id: uuid.UUID,
    attachment_id: uuid.UUID,
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> FileResponse:
    path = intake.officer_attachment(principal, report_id, attachment_id)
    return FileResponse(path, media_type="application/octet-stream")


@router.post(
    "/app/api/reports/{report_id}/messages",
    status_code=201,
    dependencies=[staff_permits("report:reply"), Depends(csrf_header)],
)
def reply(
    report_id: uuid.UUID,
    body: ReplyIn,
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> dict[str, Any]:
    message = intake.add_message(
        report_id=report_id, principal=principal, message_id=body.message_id, ciphertext=body.ciphertext
    )
    return {"ok": True, "id": str(message.id), "sent_at": message.sent_at.isoformat()}


@router.post("/app/api/keys", status_code=201, dependencies=[staff_permits("key:manage_own"), Depends(csrf_header)])
def add_key(request: Request, body: KeyIn, principal: Principal = Depends(staff_principal)) -> dict[str, Any]:
    if principal.jurisdiction is None:
        raise TnrwatchError("your account belongs to no jurisdiction")
    key = recipient_keys.add_key(
        _node(request),
        principal,
        jurisdiction=principal.jurisdiction,
        username=principal.username,
        public_key=body.public_key,
        wrapped_private_key=body.wrapped_private_key,
        key_id=body.id,
        label=body.label,
    )
    return {"ok": True, "id": str(key.id), "fingerprint": key.fingerprint}


class SealedKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    recipient: uuid.UUID
    sealed: B64


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    to_jurisdiction: str = Field(max_length=16)
    sealed_keys: list[SealedKeyIn] = Field(max_length=100)


@router.post(
    "/app/api/reports/{report_id}/referrals",
    status_code=201,
    dependencies=[staff_permits("case:work"), Depends(csrf_header)],
)
def share_with_focal_point(
    request: Request, report_id: uuid.UUID, body: ShareIn, principal: Principal = Depends(staff_principal)
) -> dict[str, Any]:
    """A referral to another jurisdiction's focal point, with the report key sealed to its keys in the browser."""
    referral = cases.refer(
        _node(request),
        principal,
        report_id,
        "focal_point",
        to_jurisdiction=body.to_jurisdiction,
        sealed_keys=[SealedKey(key.recipient, key.sealed) for key in body.sealed_keys],
    )
    return {"ok": True, "id": referral.id, "to_jurisdiction": referral.to_jurisdiction}
