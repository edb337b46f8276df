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
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tnrwatch.errors import NotAuthenticatedError, TnrwatchError, TooManyRequestsError
from tnrwatch.services import recipient_keys, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.services.reports import Intake
from tnrwatch.web.public.common import get_intake
from tnrwatch.web.public.followup import thread_json
from tnrwatch.web.public.schemas import B64
from tnrwatch.web.staff.session import (
    COOKIE,
    csrf_form,
    csrf_header,
    render_staff,
    same_site_form,
    staff_principal,
    staff_secret,
)

router = APIRouter(include_in_schema=False)


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
    response = RedirectResponse("/app/reports", status_code=303)
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


@router.get("/app", response_class=HTMLResponse)
@router.get("/app/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, principal: Principal = Depends(staff_principal), intake: Intake = Depends(get_intake)
) -> HTMLResponse:
    reports = intake.list_reports(principal) if allowed(principal, "report:read") else []
    keys = recipient_keys.list_keys(_node(request), username=principal.username)
    return render_staff(
        request,
        "staff/reports.html",
        {
            "principal": principal,
            "reports": reports,
            "keys": [k for k in keys if k.status == "active"],
            "now": dt.datetime.now(dt.UTC),  # to mark reports not acknowledged in time
        },
    )


@router.get("/app/reports/{report_id}", response_class=HTMLResponse)
def report_page(
    request: Request,
    report_id: uuid.UUID,
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> HTMLResponse:
    thread, key = intake.officer_thread(principal, report_id)
    return render_staff(
        request,
        "staff/report.html",
        {
            "principal": principal,
            "report": thread.report,
            "has_key": key is not None,
            "now": dt.datetime.now(dt.UTC),
        },
    )


@router.get("/app/keys", response_class=HTMLResponse)
def keys_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    keys = recipient_keys.list_keys(_node(request), username=principal.username)
    return render_staff(
        request,
        "staff/keys.html",
        {"principal": principal, "keys": keys, "strength": _node(request).settings.key_wrap_strength},
    )


# -- JSON for the pages' scripts ---------------------------------------------------------------------------------------


@router.get("/app/api/reports/{report_id}")
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


@router.get("/app/api/reports/{report_id}/attachments/{attachment_id}")
def report_attachment(
    report_id: uuid.UUID,
    attachment_id: uuid.UUID,
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> FileResponse:
    path = intake.officer_attachment(principal, report_id, attachment_id)
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/app/api/reports/{report_id}/messages", status_code=201, dependencies=[Depends(csrf_header)])
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


@router.post("/app/api/keys", status_code=201, dependencies=[Depends(csrf_header)])
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
