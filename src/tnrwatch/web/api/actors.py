"""/api/v1/actors: states, agencies, proxies and officials on the perpetrator side."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query, Response

from tnrwatch.domain.actor import ActorIn, ActorOut
from tnrwatch.services import actors
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, parse_if_match, permits

router = api_router("actors")


@router.get("/actors", response_model=list[ActorOut], summary="List actors", dependencies=[permits("actor:read")])
def list_actors(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    country: Annotated[str | None, Query(description="ISO alpha-2 of the state the actor serves.")] = None,
    actor_type: Annotated[str | None, Query(description="Actor type code.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ActorOut]:
    return actors.list_actors(node, principal, country=country, actor_type=actor_type, limit=limit, offset=offset)


@router.post(
    "/actors",
    status_code=201,
    response_model=ActorOut,
    summary="Create an actor",
    dependencies=[permits("actor:write")],
)
def create_actor(
    actor: ActorIn,
    response: Response,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> ActorOut:
    created = actors.create_actor(node, principal, actor)
    response.headers["ETag"] = f'"{created.version}"'
    return created


@router.get(
    "/actors/{actor_id}", response_model=ActorOut, summary="Read an actor", dependencies=[permits("actor:read")]
)
def get_actor(
    actor_id: uuid.UUID,
    response: Response,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> ActorOut:
    actor = actors.get_actor(node, principal, actor_id)
    response.headers["ETag"] = f'"{actor.version}"'
    return actor


@router.patch(
    "/actors/{actor_id}", response_model=ActorOut, summary="Update an actor", dependencies=[permits("actor:write")]
)
def patch_actor(
    actor_id: uuid.UUID,
    response: Response,
    patch: Annotated[dict[str, Any], Body(description="Fields to replace.")],
    if_match: Annotated[str | None, Header()] = None,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> ActorOut:
    actor = actors.update_actor(node, principal, actor_id, patch, parse_if_match(if_match))
    response.headers["ETag"] = f'"{actor.version}"'
    return actor
