"""One error shape for every failure: {"ok": false, "status", "error", "errors": [{"loc", "msg"}]}.

Handlers turn tnrwatch errors, request validation errors and HTTP errors (unknown route, wrong method) into it. An
unexpected exception answers 500 with a generic message; the log gets its type only, never its text, which could hold
request content.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from tnrwatch.errors import FieldError, NotAuthenticatedError, TnrwatchError

log = logging.getLogger("tnrwatch.web")


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    ok: bool = False
    status: int
    error: str
    errors: list[ErrorItem] = []


def error_response(
    status: int, message: str, errors: Sequence[FieldError] = (), headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "ok": False,
        "status": status,
        "error": message,
        "errors": [{"loc": list(e.loc), "msg": e.msg} for e in errors],
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _request_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        loc: tuple[Any, ...] = tuple(error.get("loc", ()))
        message = {"missing": "required", "extra_forbidden": "unknown field"}.get(
            error.get("type", ""), error.get("msg", "")
        )
        message = str(message).removeprefix("Value error, ")
        errors.append(FieldError(loc, message[:1].lower() + message[1:]))
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TnrwatchError)
    async def _tnrwatch_error(request: Request, exc: TnrwatchError) -> Response:
        path = request.url.path
        if isinstance(exc, NotAuthenticatedError) and path.startswith("/app") and not path.startswith("/app/api/"):
            return RedirectResponse("/app/sign-in", status_code=303)  # a staff page: go and sign in
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticatedError) else None
        return error_response(exc.status, exc.message, exc.errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _request_errors(exc)
        return error_response(422, f"the request is invalid ({len(errors)} problems)", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "no such page or resource", 405: "method not allowed here"}
        message = messages.get(exc.status_code) or str(exc.detail)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = request.scope.get("route")
        log.error("unexpected %s in %s %s", type(exc).__name__, request.method, getattr(route, "path", "?"))
        return error_response(500, "internal error; the node's operator can find its type in the log")
