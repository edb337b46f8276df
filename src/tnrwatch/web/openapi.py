"""The OpenAPI document, corrected to describe what the API really answers: every failure has the one error shape
(FastAPI would advertise its own validation-error body for 422), and every route may answer 401."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tnrwatch.web.errors import ErrorResponse

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
_STATUS_TEXT = {
    "401": "No valid API token.",
    "403": "The token's role may not do this.",
    "422": "The request is invalid; `errors` lists every problem with its location.",
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _corrected(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def _corrected(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(components["ErrorResponse"].pop("$defs", {}))
    for name in _FASTAPI_ERROR_SCHEMAS:
        components.pop(name, None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in ("401", "403", "422"):
                responses[status] = {
                    "description": _STATUS_TEXT[status],
                    "content": {"application/json": {"schema": _ERROR_REF}},
                }
    return schema
