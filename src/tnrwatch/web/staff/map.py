"""/app/map: the map of incidents for staff (choropleths by host or origin, flows, timeline, tables). The numbers its
script draws travel in the page itself (a JSON data block), so one request computes them once. The filter lives in
the page's URL (a GET form), so a link reproduces the view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tnrwatch.domain.countries import country_names, numeric_codes
from tnrwatch.domain.filters import LIST_FIELDS, IncidentFilter, filter_from_parameters
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import mapping
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.staff.session import render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)
FACETS = ("tactic_family", "target_category", "verification")


FILTER_FIELDS = (
    *LIST_FIELDS,
    "date_from",
    "date_to",
    "q",
    "bbox",
    "synthetic",
)


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def page_filter(request: Request) -> IncidentFilter:
    """The filter in the page's address. The page's form sends every field, empty ones too: an empty field is no
    filter. Other parameters (the layer, the flows) are the page's own."""
    parameters: dict[str, object] = {}
    for name in FILTER_FIELDS:
        values = [value for value in request.query_params.getlist(name) if value.strip()]
        if values:
            parameters[name] = values if name in LIST_FIELDS else values[0]
    parsed = filter_from_parameters(parameters, _node(request).taxonomy)
    if isinstance(parsed, list):
        raise InvalidInputError("the map's filter is invalid", [FieldError(("query", *e.loc), e.msg) for e in parsed])
    return parsed


@router.get("/app/map", response_class=HTMLResponse, dependencies=[staff_permits("incident:read")])
def map_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    flt: IncidentFilter = Depends(page_filter),
) -> HTMLResponse:
    node = _node(request)
    view = mapping.map_view(node, principal, flt, FACETS)
    taxonomy = node.taxonomy
    return render_staff(
        request,
        "staff/map.html",
        {
            "principal": principal,
            "view": view,
            "filters": request.query_params,
            "origins": sorted(country_names().items(), key=lambda pair: pair[1]),
            "families": [(term.code, term.label) for term in taxonomy.tactic_families],
            "choices": [
                ("target_category", "Target category", [(t.code, t.label) for t in taxonomy.target_categories]),
                ("verification", "Verification", [(t.code, t.label) for t in taxonomy.verification_levels]),
                ("tlp", "Marking", [(t.code, t.label) for t in taxonomy.tlp]),
            ],
            "family_label": {term.code: term.label for term in taxonomy.tactic_families},
            "country_name": country_names(),
            "data": _drawn(view),  # what the page's script draws, in the page: computed once, not fetched again
        },
    )


def _drawn(view: mapping.MapView) -> dict[str, Any]:
    """The numbers the map's script draws, with each country's ISO numeric code (the shapes' names)."""
    numeric = numeric_codes()

    def countries(rows: list[Any]) -> list[dict[str, Any]]:
        return [{"country": v.value, "numeric": numeric.get(v.value), "label": v.label, "count": v.count} for v in rows]

    return {
        "total": view.total,
        "hosts": countries(view.hosts),
        "origins": countries(view.origins),
        "flows": [
            {
                "origin": f.origin,
                "host": f.host,
                "from": numeric.get(f.origin),
                "to": numeric.get(f.host),
                "count": f.count,
            }
            for f in view.flows
        ],
        "timeline": [{"month": m.month, "tactic_family": m.tactic_family, "count": m.count} for m in view.timeline],
    }
