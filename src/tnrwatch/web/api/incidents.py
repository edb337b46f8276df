"""/api/v1/incidents: search with filters, facets and cursors; create; read; update; GeoJSON."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query, Response
from pydantic import BaseModel

from tnrwatch.domain.filters import FACET_NAMES, SORT_KEYS, IncidentFilter, filter_from_parameters, split_values
from tnrwatch.domain.incident import IncidentIn, IncidentOut
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.geojson import incidents_to_feature_collection
from tnrwatch.services import incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, parse_if_match, permits
from tnrwatch.web.errors import ErrorResponse

router = api_router("incidents")


class FacetValueResponse(BaseModel):
    value: str
    label: str
    count: int


class IncidentPageResponse(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None = None
    total: int | None = None
    facets: dict[str, list[FacetValueResponse]] | None = None


def incident_filter(
    node: Node = Depends(get_node),
    origin: Annotated[
        list[str] | None,
        Query(description="Origin (perpetrator) state, ISO alpha-2; repeat or comma-separate."),
    ] = None,
    host: Annotated[list[str] | None, Query(description="Host state, ISO alpha-2.")] = None,
    tactic: Annotated[list[str] | None, Query(description="Tactic code (see /api/v1/taxonomy).")] = None,
    tactic_family: Annotated[list[str] | None, Query(description="Tactic family code.")] = None,
    target_category: Annotated[list[str] | None, Query(description="Target category code.")] = None,
    vulnerability: Annotated[list[str] | None, Query(description="Vulnerability flag code.")] = None,
    verification: Annotated[list[str] | None, Query(description="Verification level code.")] = None,
    tlp: Annotated[list[str] | None, Query(description="TLP marking code.")] = None,
    host_state_role: Annotated[list[str] | None, Query(description="Host-state role code.")] = None,
    date_from: Annotated[
        dt.date | None, Query(description="Incidents whose date range ends on or after this day.")
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(description="Incidents whose date range starts on or before this day.")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search over title and summary.")] = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees.")] = None,
    synthetic: Annotated[
        bool | None, Query(description="Only synthetic (true) or only real (false) incidents.")
    ] = None,
) -> IncidentFilter:
    parameters = {
        "origin": origin,
        "host": host,
        "tactic": tactic,
        "tactic_family": tactic_family,
        "target_category": target_category,
        "vulnerability": vulnerability,
        "verification": verification,
        "tlp": tlp,
        "host_state_role": host_state_role,
        "date_from": date_from,
        "date_to": date_to,
        "q": q,
        "bbox": bbox,
        "synthetic": synthetic,
    }
    parsed = filter_from_parameters(parameters, node.taxonomy)
    if isinstance(parsed, list):
        raise InvalidInputError("the search is invalid", [FieldError(("query", *e.loc), e.msg) for e in parsed])
    return parsed


def _page_query(
    node: Node,
    flt: IncidentFilter,
    sort: str,
    limit: int | None,
    cursor: str | None,
    facets: list[str] | None = None,
    include_total: bool = False,
) -> incidents.IncidentQuery:
    return incidents.IncidentQuery(
        filter=flt,
        sort=sort,
        limit=limit or node.settings.page_size,
        cursor=cursor,
        facets=split_values(facets),
        include_total=include_total,
    )


@router.get(
    "/incidents",
    response_model=IncidentPageResponse,
    summary="Search incidents",
    dependencies=[permits("incident:read")],
)
def list_incidents(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    flt: IncidentFilter = Depends(incident_filter),
    sort: Annotated[str, Query(description=f"One of {', '.join(SORT_KEYS)}.")] = "-date",
    limit: Annotated[int | None, Query(ge=1, le=10000, description="Incidents per page.")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    facets: Annotated[list[str] | None, Query(description=f"Facet counts to add: {', '.join(FACET_NAMES)}.")] = None,
    include_total: Annotated[bool, Query(description="Count every matching incident.")] = False,
) -> IncidentPageResponse:
    _check_limit(node, limit)
    page = incidents.search_incidents(
        node, principal, _page_query(node, flt, sort, limit, cursor, facets, include_total)
    )
    return IncidentPageResponse(
        items=page.items,
        next_cursor=page.next_cursor,
        total=page.total,
        facets=(
            {
                name: [FacetValueResponse(value=v.value, label=v.label, count=v.count) for v in values]
                for name, values in page.facets.items()
            }
            if page.facets is not None
            else None
        ),
    )


def _check_limit(node: Node, limit: int | None) -> None:
    if limit is not None and limit > node.settings.max_page_size:
        raise InvalidInputError(
            "the page is too large",
            [FieldError(("query", "limit"), f"at most {node.settings.max_page_size} incidents per page")],
        )


@router.get(
    "/incidents.geojson",
    summary="Search incidents as GeoJSON",
    response_class=Response,
    responses={
        200: {
            "content": {"application/geo+json": {}},
            "description": "A FeatureCollection, one feature per location.",
        }
    },
    dependencies=[permits("incident:read")],
)
def incidents_geojson(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    flt: IncidentFilter = Depends(incident_filter),
    sort: Annotated[str, Query()] = "-date",
    limit: Annotated[int | None, Query(ge=1, le=10000)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    _check_limit(node, limit)
    page = incidents.search_incidents(node, principal, _page_query(node, flt, sort, limit, cursor))
    body = incidents_to_feature_collection(page.items, node.taxonomy, next_cursor=page.next_cursor)
    return Response(body, media_type="application/geo+json")


@router.post(
    "/incidents",
    status_code=201,
    response_model=IncidentOut,
    summary="Create an incident",
    dependencies=[permits("incident:write")],
)
def create_incident(
    response: Response,
    incident: IncidentIn,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> IncidentOut:
    created = incidents.create_incident(node, principal, incident)
    response.headers["ETag"] = f'"{created.version}"'
    response.headers["Location"] = f"/api/v1/incidents/{created.id}"
    return created


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    summary="Read an incident",
    responses={404: {"model": ErrorResponse}},
    dependencies=[permits("incident:read")],
)
def get_incident(
    incident_id: uuid.UUID,
    response: Response,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> IncidentOut:
    incident = incidents.get_incident(node, principal, incident_id)
    response.headers["ETag"] = f'"{incident.version}"'
    return incident


@router.patch(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    summary="Update an incident",
    responses={404: {"model": ErrorResponse}, 412: {"model": ErrorResponse}},
    dependencies=[permits("incident:write")],
)
def patch_incident(
    incident_id: uuid.UUID,
    response: Response,
    patch: Annotated[dict[str, Any], Body(description="Fields to replace; lists are replaced whole.")],
    if_match: Annotated[
        str | None, Header(description="The ETag you read; refused with 412 if the incident changed since.")
    ] = None,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> IncidentOut:
    updated = incidents.update_incident(node, principal, incident_id, patch, parse_if_match(if_match))
    response.headers["ETag"] = f'"{updated.version}"'
    return updated


class SharingResponse(BaseModel):
    jurisdiction: str | None  # the owner: the jurisdiction whose staff coded it; null for the node's own
    shared_with_eu: bool


class SharingIn(BaseModel):
    model_config = {"extra": "forbid"}

    shared_with_eu: bool


@router.get(
    "/incidents/{incident_id}/sharing",
    response_model=SharingResponse,
    summary="Who owns an incident, and whether it is shared with the EU level",
    responses={404: {"model": ErrorResponse}},
    dependencies=[permits("incident:read")],
)
def get_sharing(
    incident_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> SharingResponse:
    owner = incidents.ownership(node, principal, incident_id)
    return SharingResponse(jurisdiction=owner.jurisdiction, shared_with_eu=owner.shared_with_eu)


@router.put(
    "/incidents/{incident_id}/sharing",
    response_model=SharingResponse,
    summary="Share a jurisdiction's incident with the EU level, or stop sharing it",
    responses={403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    dependencies=[permits("incident:write")],
)
def put_sharing(
    incident_id: uuid.UUID,
    body: SharingIn,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> SharingResponse:
    owner = incidents.share_with_eu(node, principal, incident_id, body.shared_with_eu)
    return SharingResponse(jurisdiction=owner.jurisdiction, shared_with_eu=owner.shared_with_eu)
