"""/: what is running here, and where the API documentation is."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tnrwatch.services.node import Node
from tnrwatch.services.status import node_status
from tnrwatch.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    node: Node = request.app.state.node
    status = node_status(node)
    return templates.TemplateResponse(
        request,
        "home.html",
        {"status": status, "api_docs": node.settings.api_docs},
    )
