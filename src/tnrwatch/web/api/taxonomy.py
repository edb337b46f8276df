"""/api/v1/taxonomy: the common definition the node codes with."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.taxonomy.render import taxonomy_to_json
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("taxonomy")


@router.get(
    "/taxonomy", summary="The taxonomy: every vocabulary, term and crosswalk", dependencies=[permits("taxonomy:read")]
)
def get_taxonomy(node: Node = Depends(get_node), principal: Principal = Depends(get_principal)) -> dict[str, Any]:
    require(principal, "taxonomy:read")
    return taxonomy_to_json(node.taxonomy)
