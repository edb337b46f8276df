"""/api/v1/map: the map's numbers for one filter (choropleths by host and origin, flows, timeline, facets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from tnrwatch.domain.filters import FACET_NAMES, IncidentFilter, split_values
from tnrwatch.services import mapping
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits
from tnrwatch.web.api.incidents import incident_filter

router = api_router("map")


class CountryCount(BaseModel):
    country: str
    label: str
    count: int


class FlowOut(BaseModel):
    origin: str
    host: str
    count: int


class MonthOut(BaseModel):
    month: str
    tactic_family: str
    count: int


class FacetCount(BaseModel):
    value: str
    label: str
    count: int


class MapResponse(BaseModel):
    total: int
    hosts: list[CountryCount]
    origins: list[CountryCount]
    flows: list[FlowOut]
    timeline: list[MonthOut]
    facets: dict[str, list[FacetCount]]


@router.get(
    "/map",
    response_model=MapResponse,
    summary="The map's numbers for a filter: incidents by host and origin, flows, timeline, facets",
    dependencies=[permits("incident:read")],
)
def get_map(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    flt: IncidentFilter = Depends(incident_filter),
    facets: Annotated[list[str] | None, Query(description=f"Facet counts to add: {', '.join(FACET_NAMES)}.")] = None,
) -> MapResponse:
    view = mapping.map_view(node, principal, flt, split_values(facets))
    return MapResponse(
        total=view.total,
        hosts=[CountryCount(country=v.value, label=v.label, count=v.count) for v in view.hosts],
        origins=[CountryCount(country=v.value, label=v.label, count=v.count) for v in view.origins],
        flows=[FlowOut(origin=f.origin, host=f.host, count=f.count) for f in view.flows],
        timeline=[MonthOut(month=m.month, tactic_family=m.tactic_family, count=m.count) for m in view.timeline],
        facets={
            name: [FacetCount(value=v.value, label=v.label, count=v.count) for v in values]
            for name, values in view.facets.items()
        },
    )
