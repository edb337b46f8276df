"""The staff zone's session: its own cookie (`tnr_staff`, path /app, HttpOnly, SameSite=Strict, Secure), which the
public zone never sets or reads, and a CSRF token on every state-changing request (form field or header).

The checks are route dependencies rather than calls inside the handlers, so that they run before the body is
validated: a forged request gets 403 whatever it sends. The sign-in form has no session yet to derive a token from;
there the browser's own `Sec-Fetch-Site` header refuses a form posted from another site (login CSRF).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse

from tnrwatch.errors import ForbiddenError, NotAuthenticatedError
from tnrwatch.services import notifications, staff_auth, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import PERMISSIONS, Principal, allowed, require
from tnrwatch.web.templating import templates

COOKIE = "tnr_staff"
CSRF_HEADER = "x-csrf-token"
_FORGED = "the form is stale or came from another site; reload the page and try again"


def staff_secret(request: Request) -> str:
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise NotAuthenticatedError("please sign in")
    return secret


def staff_principal(request: Request) -> Principal:
    node: Node = request.app.state.node
    return staff_auth.session_principal(node, staff_secret(request))


def staff_permits(permission: str) -> Any:
    """A route dependency: the signed-in account must hold `permission` (services/policy.py), checked before the
    CSRF token and the body. The route rules test reads `permission` from here and compares it with its table."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def check(request: Request) -> None:
        require(staff_principal(request), permission)

    check.permission = permission  # type: ignore[attr-defined]  # read by tests/web/test_route_rules.py
    return Depends(check)


def require_csrf(request: Request, form_token: str | None = None) -> None:
    token = form_token or request.headers.get(CSRF_HEADER)
    if not staff_auth.check_csrf(staff_secret(request), token):
        raise ForbiddenError(_FORGED)


def csrf_header(request: Request) -> None:
    """Dependency of the JSON writes the pages' scripts make: the token in the `X-CSRF-Token` header."""
    require_csrf(request)


def csrf_form(request: Request, csrf_token: str = Form("", max_length=100)) -> None:
    """Dependency of the HTML forms: the token in the hidden `csrf_token` field."""
    require_csrf(request, csrf_token)


def same_site_form(request: Request) -> None:
    """Dependency of the sign-in form: refuse a post that the browser says came from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") in {"cross-site", "same-site"}:
        raise ForbiddenError(_FORGED)


def render_staff(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    secret = request.cookies.get(COOKIE)
    principal = context.get("principal")
    # The nav bar's badges: one indexed count each per signed-in page.
    unread = notifications.unread_count(request.app.state.node, principal) if isinstance(principal, Principal) else 0
    unread_inbox = (
        subscriptions.unread_count(request.app.state.node, principal)
        if isinstance(principal, Principal) and allowed(principal, "subscription:manage")
        else 0
    )
    return templates.TemplateResponse(
        request,
        template,
        {
            "csrf_token": staff_auth.csrf_token(secret) if secret else "",
            "unread_notifications": unread,
            "unread_inbox": unread_inbox,
            **context,
        },
        status_code=status_code,
    )
