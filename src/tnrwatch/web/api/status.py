"""/api/v1/status: which tnrwatch, which taxonomy, which database, and whether the data is synthetic."""

from __future__ import annotations

from fastapi import Depends
from pydantic import BaseModel, Field

from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.status import node_status
from tnrwatch.web.api.deps import api_router, get_node, get_principal

router = api_router("node")


class StatusResponse(BaseModel):
    ok: bool = True
    version: str
    taxonomy_version: str
    database: str
    holds_synthetic_data: bool
    map_copy: str = Field(
        description="The map's in-memory columnar copy of the incident tables: ready, building (the map reads the "
        "database meanwhile), on first use, or off (TNRWATCH_MAP_COPY=false)."
    )


@router.get("/status", response_model=StatusResponse, summary="What this node runs")
def get_status(node: Node = Depends(get_node), _principal: Principal = Depends(get_principal)) -> StatusResponse:
    status = node_status(node)
    return StatusResponse(
        version=status.version,
        taxonomy_version=status.taxonomy_version,
        database=status.database,
        holds_synthetic_data=status.holds_synthetic_data,
        map_copy=status.map_copy,
    )
