"""The TAXII 2.1 server, mounted at /taxii2/: discovery, one API root (/taxii2/api/), collections, objects (GET,
POST), an object, its versions, the manifest, status resources.

A zone of its own (an application mounted inside the main one): partner nodes authenticate with a partner token
(`Authorization: Bearer TOKEN`, or HTTP Basic with the partner's name and the token, as taxii2-client sends it),
never with a staff session or cookie; every error answers in TAXII's error-message shape. Pages are built by
joining the stored JSON of each object, never parsing it again. Nothing here logs a token, a query or content.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from tnrwatch.domain.sharing import PartnerView
from tnrwatch.errors import FieldError, InvalidInputError, TnrwatchError
from tnrwatch.services import partners, taxii, taxii_inbox, taxii_read
from tnrwatch.services.node import Node
from tnrwatch.services.taxii import CollectionInfo
from tnrwatch.services.taxii_read import Endpoint, Page

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
API_ROOT = "api"
CHALLENGE = 'Bearer realm="taxii", Basic realm="taxii"'

log = logging.getLogger("tnrwatch.web.taxii")


class TaxiiError(Exception):
    """An answer in TAXII's error shape (for what the tnrwatch errors do not cover: media types, sizes)."""

    def __init__(self, status: int, title: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.description, self.headers = status, title, description, headers


def error_body(status: int, title: str, description: str, details: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"title": title, "description": description, "http_status": str(status)}
    if details:
        body["details"] = details
    return json.dumps(body, ensure_ascii=False).encode()


def taxii_response(body: bytes | str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body.encode() if isinstance(body, str) else body, status, headers=headers, media_type=TAXII_MEDIA_TYPE
    )


def create_taxii_app(node_of: Callable[[], Node]) -> FastAPI:
    """The TAXII application; `node_of` gives the node the main application opened (at request time)."""
    app = FastAPI(title="tnrwatch TAXII 2.1", openapi_url=None, docs_url=None, redoc_url=None)

    def node() -> Node:
        return node_of()

    def partner(request: Request, opened: Node = Depends(node)) -> PartnerView:
        found = _authenticate(opened, request.headers.get("authorization", ""))
        if found is None:
            raise TaxiiError(
                401,
                "authentication required",
                "send a partner token as `Authorization: Bearer TOKEN`, or HTTP Basic with the partner's name and "
                "its token",
                {"WWW-Authenticate": CHALLENGE},
            )
        return found

    def acceptable(request: Request) -> None:
        if not _accepts(request.headers.get("accept", "")):
            raise TaxiiError(406, "not acceptable", f"this server answers in {TAXII_MEDIA_TYPE}")

    guard = [Depends(acceptable)]

    @app.get("/", dependencies=guard)
    def discovery(request: Request, who: PartnerView = Depends(partner), opened: Node = Depends(node)) -> Response:
        root = f"{str(request.url.replace(query='')).rstrip('/')}/{API_ROOT}/"  # this is the mount's own root
        body = {
            "title": f"{opened.settings.node_name} (tnrwatch)",
            "description": "TAXII 2.1 server of a tnrwatch node: alerts and incidents of transnational repression.",
            "default": root,
            "api_roots": [root],
        }
        return taxii_response(json.dumps(body, ensure_ascii=False))

    @app.get(f"/{API_ROOT}/", dependencies=guard)
    def api_root(who: PartnerView = Depends(partner), opened: Node = Depends(node)) -> Response:
        body = {
            "title": opened.settings.node_name,
            "description": "Collections this node shares with its partner nodes.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": opened.settings.taxii_max_content_mb * 1024 * 1024,
        }
        return taxii_response(json.dumps(body, ensure_ascii=False))

    @app.get(f"/{API_ROOT}/collections/", dependencies=guard)
    def collections(who: PartnerView = Depends(partner), opened: Node = Depends(node)) -> Response:
        found = [_collection_json(item) for item in taxii.collections_for(opened, who)]
        return taxii_response(json.dumps({"collections": found}, ensure_ascii=False))

    @app.get(f"/{API_ROOT}/collections/{{collection_id}}/", dependencies=guard)
    def collection(collection_id: str, who: PartnerView = Depends(partner), opened: Node = Depends(node)) -> Response:
        found = taxii.collection_for(opened, who, collection_id)
        return taxii_response(json.dumps(_collection_json(found), ensure_ascii=False))

    @app.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/", dependencies=guard)
    def get_objects(
        collection_id: str, request: Request, who: PartnerView = Depends(partner), opened: Node = Depends(node)
    ) -> Response:
        page = _page(opened, who, collection_id, "objects", request)
        return _envelope(page, "objects", page.bodies)

    @app.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", dependencies=guard)
    def get_object(
        collection_id: str,
        object_id: str,
        request: Request,
        who: PartnerView = Depends(partner),
        opened: Node = Depends(node),
    ) -> Response:
        page = _page(opened, who, collection_id, "object", request, object_id)
        if not (page.bodies or page.entries) and "next" not in request.query_params:
            raise TaxiiError(404, "not found", "no object with this id in this collection")
        return _envelope(page, "objects", page.bodies)

    @app.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/", dependencies=guard)
    def get_versions(
        collection_id: str,
        object_id: str,
        request: Request,
        who: PartnerView = Depends(partner),
        opened: Node = Depends(node),
    ) -> Response:
        page = _page(opened, who, collection_id, "versions", request, object_id)
        if not (page.bodies or page.entries) and "next" not in request.query_params:
            raise TaxiiError(404, "not found", "no object with this id in this collection")
        return _envelope(page, "versions", [json.dumps(taxii.stix_timestamp(entry.modified)) for entry in page.entries])

    @app.get(f"/{API_ROOT}/collections/{{collection_id}}/manifest/", dependencies=guard)
    def get_manifest(
        collection_id: str, request: Request, who: PartnerView = Depends(partner), opened: Node = Depends(node)
    ) -> Response:
        page = _page(opened, who, collection_id, "manifest", request)
        return _envelope(page, "objects", [taxii_read.manifest_record(entry) for entry in page.entries])

    @app.post(f"/{API_ROOT}/collections/{{collection_id}}/objects/", dependencies=guard)
    async def add_objects(
        collection_id: str, request: Request, who: PartnerView = Depends(partner), opened: Node = Depends(node)
    ) -> Response:
        if not _is_sendable(request.headers.get("content-type", "")):
            raise TaxiiError(415, "unsupported media type", f"send the envelope as {TAXII_MEDIA_TYPE}")
        target = taxii.collection_for(opened, who, collection_id)
        limit = opened.settings.taxii_max_content_mb * 1024 * 1024
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TaxiiError(413, "too large", f"this API root takes bodies of at most {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise TaxiiError(413, "too large", f"this API root takes bodies of at most {limit} bytes")
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInputError(
                "the body is not JSON", [FieldError(("body",), "expected a TAXII envelope")]
            ) from None
        status = await run_in_threadpool(taxii_inbox.receive_objects, opened, who, target, envelope)
        return taxii_response(json.dumps(status.as_json(), ensure_ascii=False), 202)

    @app.get(f"/{API_ROOT}/status/{{status_id}}/", dependencies=guard)
    def get_status(status_id: str, who: PartnerView = Depends(partner), opened: Node = Depends(node)) -> Response:
        try:
            wanted = uuid.UUID(status_id)
        except ValueError:
            raise TaxiiError(404, "not found", "no status with this id") from None
        status = taxii_inbox.get_status(opened, who, wanted)
        return taxii_response(json.dumps(status.as_json(), ensure_ascii=False))

    _install_errors(app)
    return app


def _authenticate(node: Node, header: str) -> PartnerView | None:
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return partners.authenticate(node, credentials)
    if scheme.lower() == "basic" and credentials:
        try:
            name, _, token = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return None
        return partners.authenticate(node, token, name=name)
    return None


def _media_types(header: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for item in header.split(","):
        kind, *raw = (part.strip() for part in item.split(";"))
        params = {}
        for param in raw:
            key, _, value = param.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        if kind:
            found.append((kind.lower(), params))
    return found


def _accepts(header: str) -> bool:
    """Whether an Accept header admits TAXII 2.1 JSON (no header admits anything)."""
    if not header.strip():
        return True
    for kind, params in _media_types(header):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def _is_sendable(header: str) -> bool:
    """Whether a POST's Content-Type is a TAXII envelope or STIX 2.1 content."""
    types = _media_types(header)
    if len(types) != 1:
        return False
    kind, params = types[0]
    return kind in ("application/taxii+json", "application/stix+json") and params.get("version", "2.1") == "2.1"


def _collection_json(item: CollectionInfo) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "can_read": item.can_read,
        "can_write": item.can_write,
        "media_types": [STIX_MEDIA_TYPE],
    }


def _page(
    node: Node, who: PartnerView, collection_id: str, endpoint: Endpoint, request: Request, object_id: str | None = None
) -> Page:
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise InvalidInputError("a filter is given twice", [FieldError((name,), "give it once, comma-separated")])
        params[name] = value
    target = taxii.collection_for(node, who, collection_id)
    query = taxii_read.parse_query(endpoint, params, object_id)
    return taxii_read.read_page(node, who, target, query)


def _envelope(page: Page, key: str, items: list[str]) -> Response:
    """The page as TAXII JSON, by joining texts: the stored objects are not parsed again."""
    head = '{"more":' + ("true" if page.more else "false")
    if page.next is not None:
        head += ',"next":' + json.dumps(page.next)
    body = head + (f',"{key}":[' + ",".join(items) + "]}" if items else "}")
    headers = {}
    if page.first_added is not None and page.last_added is not None:
        headers["X-TAXII-Date-Added-First"] = taxii.stix_timestamp(page.first_added, micro=True)
        headers["X-TAXII-Date-Added-Last"] = taxii.stix_timestamp(page.last_added, micro=True)
    return taxii_response(body, headers=headers)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(TaxiiError)
    async def _taxii_error(_request: Request, exc: TaxiiError) -> Response:
        return taxii_response(error_body(exc.status, exc.title, exc.description), exc.status, exc.headers)

    @app.exception_handler(TnrwatchError)
    async def _tnrwatch_error(_request: Request, exc: TnrwatchError) -> Response:
        # TAXII answers a bad request with 400 (tnrwatch's own API says 422).
        status = 400 if isinstance(exc, InvalidInputError) else exc.status
        details = {"errors": [{"loc": list(e.loc), "msg": e.msg} for e in exc.errors]} if exc.errors else None
        return taxii_response(error_body(status, exc.title, exc.message, details), status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return taxii_response(error_body(400, "bad request", "the request is invalid"), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "not found", 405: "method not allowed"}
        title = titles.get(exc.status_code, "error")
        return taxii_response(error_body(exc.status_code, title, f"{title} on this TAXII server"), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        route = request.scope.get("route")
        log.error("unexpected %s in TAXII %s %s", type(exc).__name__, request.method, getattr(route, "path", "?"))
        return taxii_response(
            error_body(500, "internal error", "the node's operator can find its type in the log"), 500
        )
