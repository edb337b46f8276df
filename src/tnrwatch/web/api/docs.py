"""/api/v1/docs: interactive API documentation from a vendored Swagger UI (no CDN), started by a same-origin script."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tnrwatch.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {"openapi_url": "/api/v1/openapi.json"})
