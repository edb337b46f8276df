"""What the reporter's zone shares: generic error answers, the page language, and rendering.

The public zone sets no session and no tracking cookie (only `tnr_lang`, the chosen language code) and never reads
the staff session. Its errors tell the reporter what to do without detail that helps an attacker (which check
failed, whether a report id exists); the precise reason goes to the debug log, which never holds content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute

from tnrwatch.errors import TnrwatchError
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake, KeysChangedError, UploadOffsetError
from tnrwatch.services.status import node_status
from tnrwatch.web import i18n
from tnrwatch.web.public.form import jurisdiction_label
from tnrwatch.web.templating import templates

log = logging.getLogger("tnrwatch.web.public")

# What the reporter reads, by status; translated on the page (the JSON carries a `code` the script maps to text).
GENERIC: dict[int, tuple[str, str]] = {
    400: ("unreadable", "The submission could not be read. Nothing was stored. Please try again."),
    404: ("not_found", "Nothing was found. If you typed a receipt, check each group again."),
    409: ("conflict", "This was already received, or the focal point's keys changed. Please try again."),
    413: ("too_large", "This is larger than the node accepts."),
    422: ("unreadable", "The submission could not be read. Nothing was stored. Please try again."),
    429: ("busy", "Many reports are arriving right now. Nothing was stored. Please try again in an hour."),
}


def public_error(request: Request, status: int, reason: str, code: str | None = None, **extra: Any) -> JSONResponse:
    """The generic answer for `status`; `code` and `extra` tell the page's script what to do next (re-seal, resume)."""
    generic_code, message = GENERIC.get(
        status, ("error", "Something went wrong. Nothing was stored. Please try again.")
    )
    route = getattr(request.scope.get("route"), "path", "?")
    log.debug("public %s answered %s: %s", route, status, reason)
    body = {"ok": False, "status": status, "code": code or generic_code, "error": message, **extra}
    return JSONResponse(body, status_code=status)


class PublicRoute(APIRoute):
    """Routes of the reporter's zone answer failures with GENERIC messages only."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except UploadOffsetError as exc:
                return public_error(request, 409, exc.message, "upload_offset", received=exc.received)
            except KeysChangedError as exc:
                return public_error(request, 409, exc.message, "keys_changed")
            except TnrwatchError as exc:
                if exc.status >= 500:
                    raise
                return public_error(request, exc.status, exc.message)
            except RequestValidationError as exc:
                return public_error(request, 422, f"{len(exc.errors())} problems in the request")

        return guarded


def get_intake(request: Request) -> Intake:
    intake: Intake | None = getattr(request.app.state, "intake", None)
    if intake is None:
        intake = request.app.state.intake = Intake(request.app.state.node)
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
