"""/health: the bare liveness answer for load balancers and monitors; no database, no authentication, no content."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(include_in_schema=False)


@router.get("/health")
def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
