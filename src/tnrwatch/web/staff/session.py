"""The staff zone's session: its own cookie (`tnr_staff`, path /app, HttpOnly, SameSite=Strict, Secure), which the
public zone never sets or reads, and a CSRF token on every state-changing request (form field or header)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from tnrwatch.errors import ForbiddenError, NotAuthenticatedError
from tnrwatch.services import staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.templating import templates

COOKIE = "tnr_staff"
CSRF_HEADER = "x-csrf-token"


def staff_secret(request: Request) -> str:
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise NotAuthenticatedError("please sign in")
    return secret


def staff_principal(request: Request) -> Principal:
    node: Node = request.app.state.node
    return staff_auth.session_principal(node, staff_secret(request))


def require_csrf(request: Request, form_token: str | None = None) -> None:
    token = form_token or request.headers.get(CSRF_HEADER)
    if not staff_auth.check_csrf(staff_secret(request), token):
        raise ForbiddenError("the form is stale or came from another site; reload the page and try again")


def render_staff(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    secret = request.cookies.get(COOKIE)
    return templates.TemplateResponse(
        request,
        template,
        {"csrf_token": staff_auth.csrf_token(secret) if secret else "", **context},
        status_code=status_code,
    )
