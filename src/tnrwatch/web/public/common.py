"""What the reporter's zone shares: generic error answers, the page language, and rendering.

The public zone sets no session and no tracking cookie (only `tnr_lang`, the chosen language code) and never reads
the staff session. Its errors tell the reporter what to do without detail that helps an attacker (which check
failed, whether a report id exists); the precise reason goes to the debug log, which never holds content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute

from tnrwatch.errors import TnrwatchError
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.services.status import node_status
from tnrwatch.web import i18n
from tnrwatch.web.public.answers import error_body, refusal
from tnrwatch.web.public.form import jurisdiction_label
from tnrwatch.web.templating import templates

log = logging.getLogger("tnrwatch.web.public")


def log_refusal(route: str, status: int, reason: str) -> None:
    """The precise reason for a generic answer goes to the debug log only (it names no content)."""
    log.debug("public %s answered %s: %s", route, status, reason)


def public_error(request: Request, status: int, reason: str, code: str | None = None, **extra: Any) -> JSONResponse:
    log_refusal(_route(request), status, reason)
    return JSONResponse(error_body(status, code, **extra), status_code=status)


def _route(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "?"))


class PublicRoute(APIRoute):
    """Routes of the reporter's zone answer failures with GENERIC messages only."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except TnrwatchError as exc:
                if exc.status >= 500:
                    raise
                status, body = refusal(exc)
                log_refusal(_route(request), status, exc.message)
                return JSONResponse(body, status_code=status)
            except RequestValidationError as exc:
                return public_error(request, 422, f"{len(exc.errors())} problems in the request")

        return guarded


def get_intake(request: Request) -> Intake:
    return intake_of(request.app)


def intake_of(app: FastAPI) -> Intake:
    """The application's intake state, made on first use (it creates the node's intake keys if there are none)."""
    intake: Intake | None = getattr(app.state, "intake", None)
    if intake is None:
        intake = app.state.intake = Intake(app.state.node)
    return intake


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a public page in the reader's language; remember a language chosen just now."""
    language, chosen = i18n.choose(request)
    i18n.activate(language)
    node: Node = request.app.state.node
    response = templates.TemplateResponse(
        request,
        template,
        {
            "language": language,
            "languages": list(i18n.LANGUAGES.values()),
            "status": node_status(node),
            "page_path": request.url.path,
            "jurisdiction_label": lambda jurisdiction: jurisdiction_label(jurisdiction, language.code),
            **context,
        },
        status_code=status_code,
    )
    if chosen:
        response.set_cookie(i18n.LANGUAGE_COOKIE, language.code, max_age=365 * 86400, samesite="strict")
    return response
