"""/api/v1/persons: pseudonymous persons; identities only on explicit request by a role that may read them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from tnrwatch.domain.identity_share import IdentityShareIn, IdentityShareOut
from tnrwatch.domain.person import PersonIn, PersonOut
from tnrwatch.services import identity_shares, persons
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


@router.get(
    "/persons/{person_id}/identity-shares",
    response_model=list[IdentityShareOut],
    summary="The grants letting other focal points read this person's identity",
    dependencies=[permits("person:identity")],
)
def list_identity_shares(
    person_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> list[IdentityShareOut]:
    return identity_shares.list_identity_shares(node, principal, person_id)


@router.post(
    "/persons/{person_id}/identity-shares",
    status_code=201,
    response_model=IdentityShareOut,
    summary="Let another focal point read this person's identity (the person consented; the grant is audited)",
    dependencies=[permits("person:identity")],
)
def grant_identity_share(
    person_id: uuid.UUID,
    share: IdentityShareIn,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> IdentityShareOut:
    return identity_shares.grant_identity_share(node, principal, person_id, share)


@router.post(
    "/identity-shares/{share_id}/revoke",
    response_model=IdentityShareOut,
    summary="End a grant (either focal point may)",
    dependencies=[permits("person:identity")],
)
def revoke_identity_share(
    share_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> IdentityShareOut:
    return identity_shares.revoke_identity_share(node, principal, share_id)
