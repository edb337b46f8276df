"""/api/v1/persons: pseudonymous persons; identities only on explicit request by a role that may read them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from tnrwatch.domain.person import PersonIn, PersonOut
from tnrwatch.services import persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("persons")


@router.get(
    "/persons",
    response_model=list[PersonOut],
    summary="List persons (never with identities)",
    dependencies=[permits("person:read")],
)
def list_persons(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PersonOut]:
    return persons.list_persons(node, principal, limit=limit, offset=offset)


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonOut,
    summary="Create a person",
    dependencies=[permits("person:write")],
)
def create_person(
    person: PersonIn, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> PersonOut:
    return persons.create_person(node, principal, person)


@router.get(
    "/persons/{person_id}", response_model=PersonOut, summary="Read a person", dependencies=[permits("person:read")]
)
def get_person(
    person_id: uuid.UUID,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    include_identity: Annotated[
        bool, Query(description="Open the identity from the vault; the read is recorded.")
    ] = False,
) -> PersonOut:
    return persons.get_person(node, principal, person_id, with_identity=include_identity)
