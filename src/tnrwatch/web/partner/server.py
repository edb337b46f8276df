"""The partner zone, mounted at /partner: JSON endpoints for partner nodes beside TAXII. Today one: POST
/partner/v1/screening, the blind-index "is this person protected?" query (services/blind_index.py).

A zone of its own like the TAXII server: a partner authenticates with its partner token (`Authorization: Bearer
TOKEN`), never with a staff session or cookie; errors answer in the node's one error shape. Nothing here logs a
token or a hash a partner sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tnrwatch.domain.sharing import PartnerView
from tnrwatch.errors import NotAuthenticatedError, TooManyRequestsError
from tnrwatch.services import partners
from tnrwatch.services.blind_index import MAX_DIGESTS, ScreeningDesk
from tnrwatch.services.node import Node
from tnrwatch.web.errors import error_response, install_error_handlers

CHALLENGE = 'Bearer realm="partner"'


class ScreeningQuery(BaseModel):
    """HMAC-SHA256s (hex) of the subject's blocking keys under the screening key `key_id`."""

    model_config = ConfigDict(extra="forbid")

    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    digests: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=MAX_DIGESTS)]


def create_partner_app(node_of: Callable[[], Node]) -> FastAPI:
    """The partner zone's application; `node_of` gives the node the main application opened (at request time)."""
    app = FastAPI(title="tnrwatch partner zone", openapi_url=None, docs_url=None, redoc_url=None)
    desks: dict[int, ScreeningDesk] = {}  # one per node: its in-memory blind indexes

    def node() -> Node:
        return node_of()

    def partner(request: Request, opened: Node = Depends(node)) -> PartnerView:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = partners.authenticate(opened, token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise NotAuthenticatedError("send a partner token as `Authorization: Bearer TOKEN`")
        return found

    def desk(opened: Node = Depends(node)) -> ScreeningDesk:
        if id(opened) not in desks:
            desks.clear()  # a new node (tests reopen it): the old indexes are of no use
            desks[id(opened)] = ScreeningDesk(opened)
        return desks[id(opened)]

    @app.post("/v1/screening")
    async def screening(
        query: ScreeningQuery, who: PartnerView = Depends(partner), answering: ScreeningDesk = Depends(desk)
    ) -> JSONResponse:
        answer = await run_in_threadpool(answering.query, who, query.key_id, query.digests)
        return JSONResponse(answer.as_json(), headers={"Cache-Control": "no-store"})

    install_error_handlers(app)

    @app.exception_handler(NotAuthenticatedError)
    async def _unauthenticated(_request: Request, exc: NotAuthenticatedError) -> JSONResponse:
        return error_response(exc.status, exc.message, headers={"WWW-Authenticate": CHALLENGE})

    @app.exception_handler(TooManyRequestsError)
    async def _too_many(_request: Request, exc: TooManyRequestsError) -> JSONResponse:
        return error_response(exc.status, exc.message, headers={"Retry-After": "3600"})

    return app
