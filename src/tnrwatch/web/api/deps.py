"""What API routes depend on: the node, the principal behind the bearer token, and strict query parsing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tnrwatch.errors import FieldError, ForbiddenError, InvalidInputError, NotAuthenticatedError
from tnrwatch.services import accounts
from tnrwatch.services.node import Node
from tnrwatch.services.policy import PERMISSIONS, Principal, require

API_PREFIX = "/api/v1"

bearer = HTTPBearer(auto_error=False, description="A personal API token from `tnrwatch tokens create USERNAME`.")


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


# What a token of scope "read" may do: look, never change.
READ_METHODS = frozenset({"GET", "HEAD"})


def get_principal(
    request: Request,
    node: Node = Depends(get_node),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Principal:
    """The account behind the bearer token, once the token's scope allows the request's method."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticatedError("a valid API token is required: send it as `Authorization: Bearer TOKEN`")
    grant = accounts.authenticate_token(node, credentials.credentials)
    if grant.scope != "write" and request.method not in READ_METHODS:
        raise ForbiddenError(
            f"this API token has scope {grant.scope!r}: it may only read (GET). "
            "Changes need a token made with `tnrwatch tokens create USERNAME --scope write`"
        )
    return grant.principal


def permits(permission: str) -> Any:
    """A route dependency: the token's account must hold `permission` (services/policy.py). Checked before the
    request's body is read, so a refused role learns nothing from validation errors; the services check again.
    The route rules test reads `permission` from here and compares it with its table."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def check(principal: Principal = Depends(get_principal)) -> None:
        require(principal, permission)

    check.permission = permission  # type: ignore[attr-defined]  # read by tests/web/test_route_rules.py
    return Depends(check)


def strict_query(request: Request) -> None:
    """A misspelt filter must not silently widen a search: a query parameter the route does not declare is an error.
    Used as a router-wide dependency; the declared names come from the route's own signature."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _ALLOWED_BY_ROUTE.get(id(route))
    if allowed is None:
        allowed = _ALLOWED_BY_ROUTE[id(route)] = _declared_query_names(dependant)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        valid = ", ".join(sorted(allowed)) or "none"
        errors = [FieldError(("query", name), f"unknown parameter; valid: {valid}") for name in unknown]
        raise InvalidInputError("the request has unknown query parameters", errors)


_ALLOWED_BY_ROUTE: dict[int, frozenset[str]] = {}


def _declared_query_names(dependant: Dependant) -> frozenset[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query_names(sub)
    return frozenset(names)


def api_router(tag: str, **kwargs: Any) -> APIRouter:
    """A router for one part of the API: under /api/v1, refusing undeclared query parameters. Paths are declared
    with the prefix on the router itself, so a route's template (as logged) is its full path."""
    return APIRouter(prefix=API_PREFIX, tags=[tag], dependencies=[Depends(strict_query)], **kwargs)


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"` or `3`); None when absent."""
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInputError(
            "If-Match must name a version, as in the ETag header",
            [FieldError(("header", "If-Match"), "not a version")],
        )
    return int(value)
