"""/app/map: the map of incidents for staff, and what its script asks for.

The page shows one filter (the GET form, the chips, the clicks on the map and the charts all write it into the
address, so a link reproduces the view): choropleths by host or origin, origin -> host flows, clustered points where a
location is known to a place or better, the timeline, the top pairs, the tactic and target mixes, and the matching
incidents a page at a time. The numbers the script draws travel in the page (a JSON data block): one request
computes them once. `month` (YYYY-MM) narrows the map alone to one month of the filter's period: the time slider
moves it, asking /app/api/map for each frame without reloading the page; the charts keep showing the whole period.
The exports write the same filter as CSV or GeoJSON.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from tnrwatch.domain.countries import country_name, country_names, numeric_codes
from tnrwatch.domain.filters import LIST_FIELDS, IncidentFilter, filter_from_parameters
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import exports, incidents, map_points, mapping
from tnrwatch.services.node import Node
from tnrwatch.services.policy import TLP_ALL, Principal, read_scope
from tnrwatch.taxonomy import Taxonomy
from tnrwatch.web.staff import charts
from tnrwatch.web.staff.session import render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)
FACETS = ("tactic_family", "target_category")
PAGE_SIZE = 25
TOP_PAIRS = 15
FIRST_PAGE = "first"  # in `prev`, the first page's (absent) cursor

FILTER_FIELDS = (
    *LIST_FIELDS,
    "date_from",
    "date_to",
    "q",
    "bbox",
    "synthetic",
)
# The page's own parameters besides the filter: the month shown, the layers, the incidents table's page.
VIEW_FIELDS = ("month", "layer", "flows", "points", "cursor", "prev")
FIELD_TITLES = {
    "origin": "Origin",
    "host": "Host",
    "tactic": "Tactic",
    "tactic_family": "Tactic family",
    "target_category": "Target",
    "vulnerability": "Vulnerability",
    "verification": "Verification",
    "tlp": "Marking",
    "host_state_role": "Host-state role",
    "date_from": "From",
    "date_to": "To",
    "q": "Words",
    "bbox": "Area",
    "synthetic": "Synthetic",
    "month": "Map shows",
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def page_filter(request: Request) -> IncidentFilter:
    """The filter in the page's address. The page's form sends every field, empty ones too: an empty field is no
    filter. Other parameters (the layers, the month, the table's page) are the page's own."""
    parameters: dict[str, object] = {}
    for name in FILTER_FIELDS:
        values = [value for value in request.query_params.getlist(name) if value.strip()]
        if values:
            parameters[name] = values if name in LIST_FIELDS else values[0]
    parsed = filter_from_parameters(parameters, _node(request).taxonomy)
    if isinstance(parsed, list):
        raise InvalidInputError("the map's filter is invalid", [FieldError(("query", *e.loc), e.msg) for e in parsed])
    return parsed


@dataclass(frozen=True)
class Layers:
    choropleth: str  # "host", "origin" or "none"
    flows: bool
    points: bool


def page_layers(request: Request) -> Layers:
    """The layers in the address. A fresh page (no `layer` yet) shows the flows and the points; once the form was
    sent, its checkboxes say."""
    params = request.query_params
    fresh = "layer" not in params
    choropleth = params.get("layer", "host")
    return Layers(
        choropleth=choropleth if choropleth in ("host", "origin", "none") else "host",
        flows=fresh or params.get("flows") == "1",
        points=fresh or params.get("points") == "1",
    )


def page_month(request: Request) -> str | None:
    """The month the map shows (YYYY-MM), if one."""
    month = request.query_params.get("month", "").strip()
    if not month:
        return None
    found = _MONTH.match(month)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise InvalidInputError("the map's filter is invalid", [FieldError(("query", "month"), "use YYYY-MM")])
    return month


def month_frame(flt: IncidentFilter, month: str | None) -> IncidentFilter | None:
    """`flt` narrowed to one month, or None when no month is asked for or it lies outside the filter's period."""
    if month is None:
        return None
    year, number = (int(part) for part in month.split("-"))
    first = dt.date(year, number, 1)
    last = dt.date(year, number, calendar.monthrange(year, number)[1])
    start = max(first, flt.date_from) if flt.date_from else first
    end = min(last, flt.date_to) if flt.date_to else last
    if start > end:
        return None
    return flt.model_copy(update={"date_from": start, "date_to": end})


# -- the page ----------------------------------------------------------------------------------------------------------


@router.get("/app/map", response_class=HTMLResponse, dependencies=[staff_permits("incident:read")])
def map_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    flt: IncidentFilter = Depends(page_filter),
    layers: Layers = Depends(page_layers),
    month: str | None = Depends(page_month),
) -> HTMLResponse:
    node = _node(request)
    taxonomy = node.taxonomy
    period = mapping.map_view(node, principal, flt, FACETS)
    frame_filter = month_frame(flt, month)
    frame = mapping.map_view(node, principal, frame_filter) if frame_filter is not None else period
    shown_month = month if frame_filter is not None else None
    links = Links(request)
    table = _incident_table(request, node, principal, flt, links)
    families = {term.code: term.label for term in taxonomy.tactic_families}
    period_flows = period.flows[:TOP_PAIRS]
    data = {
        "map": _drawn(node, principal, frame, frame_filter or flt, layers),
        "month": shown_month,
        "period_total": period.total,
        "months": _months(period.timeline),
        "layers": {"choropleth": layers.choropleth, "flows": layers.flows, "points": layers.points},
        "charts": {
            "timeline": charts.timeline(
                [{"month": m.month, "tactic_family": m.tactic_family, "count": m.count} for m in period.timeline],
                families,
            ),
            "pairs": charts.pairs([(f.origin, f.host, f.count) for f in period_flows], country_names()),
            "tactics": charts.bars(
                [(v.value, v.label, v.count) for v in period.facets["tactic_family"]], "Tactic family"
            ),
            "targets": charts.bars(
                [(v.value, v.label, v.count) for v in period.facets["target_category"]], "Target category"
            ),
        },
    }
    return render_staff(
        request,
        "staff/map.html",
        {
            "principal": principal,
            "period": period,
            "frame": frame,
            "month": shown_month,
            "layers": layers,
            "filters": request.query_params,
            "chips": _chips(request, taxonomy, shown_month, links),
            "link": links.filtered,
            "month_links": {m.month: links.month_range(m.month) for m in period.timeline},
            "timeline_rows": _timeline_rows(period.timeline, families),
            "families": families,
            "pairs": period_flows,
            "table": table,
            "exports": {fmt: f"/app/map/incidents.{fmt}{links.filter_query()}" for fmt in ("csv", "geojson")},
            **_choices(taxonomy, principal),
            "country_name": country_names(),
            "data": data,
        },
    )


class Links:
    """Addresses of the page with one thing changed, the rest of the view kept: what the chips, the tables' links
    and the paging write."""

    def __init__(self, request: Request) -> None:
        # The form sends empty fields: they are no filter, and a link needs not carry them.
        self.items = [(name, value) for name, value in request.query_params.multi_items() if value.strip()]

    @staticmethod
    def href(items: list[tuple[str, str]], anchor: str = "") -> str:
        return "/app/map" + (f"?{urlencode(items)}" if items else "") + anchor

    def filtered(self, **changes: str) -> str:
        """Filter by each given field (replacing its values), from the first page of the table."""
        dropped = {*changes, "cursor", "prev"}
        if {"date_from", "date_to"} & set(changes):
            dropped.add("month")
        kept = [(name, value) for name, value in self.items if name not in dropped]
        return self.href(kept + list(changes.items()))

    def month_range(self, month: str) -> str:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
        return self.filtered(date_from=f"{month}-01", date_to=f"{month}-{last:02d}")

    def without(self, name: str, value: str) -> str:
        return self.href([(n, v) for n, v in self.items if (n, v) != (name, value) and n not in ("cursor", "prev")])

    def page(self, cursor: str | None, prev: list[str]) -> str:
        kept = [(name, value) for name, value in self.items if name not in ("cursor", "prev")]
        moved = kept + [("prev", p) for p in prev] + ([("cursor", cursor)] if cursor else [])
        return self.href(moved, "#incidents-title")

    def filter_query(self) -> str:
        kept = [(name, value) for name, value in self.items if name in FILTER_FIELDS]
        return f"?{urlencode(kept)}" if kept else ""


def _chips(request: Request, taxonomy: Taxonomy, month: str | None, links: Links) -> list[tuple[str, str]]:
    """(text, address without it) of every filter value in force, and of the month shown."""
    chips = []
    for name, value in links.items:
        if name in LIST_FIELDS:
            text = incidents.facet_label(taxonomy, name, value)
        elif name in FILTER_FIELDS or (name == "month" and value == month):
            text = value
        else:
            continue
        chips.append((f"{FIELD_TITLES.get(name, name)}: {text}", links.without(name, value)))
    return chips


def _choices(taxonomy: Taxonomy, principal: Principal) -> dict[str, Any]:
    """The form's options: every country, the taxonomy's vocabularies, and the markings the reader may read."""
    scope = read_scope(principal)
    readable = TLP_ALL if scope.everything or scope.own_jurisdiction else scope.node_level | scope.shared
    return {
        "countries": sorted(country_names().items(), key=lambda pair: pair[1]),
        "family_choices": [(term.code, term.label) for term in taxonomy.tactic_families],
        "tactic_groups": [
            (
                family.label,
                [(term.code, term.label) for term in taxonomy.tactics if term.family == family.code],
            )
            for family in taxonomy.tactic_families
        ],
        "choices": [
            ("target_category", "Target category", [(t.code, t.label) for t in taxonomy.target_categories]),
            ("vulnerability", "Vulnerability", [(t.code, t.label) for t in taxonomy.vulnerability_flags]),
            ("verification", "Verification", [(t.code, t.label) for t in taxonomy.verification_levels]),
            ("host_state_role", "Host-state role", [(t.code, t.label) for t in taxonomy.host_state_roles]),
            ("tlp", "Marking", [(t.code, t.label) for t in taxonomy.tlp if t.code in readable]),
        ],
    }


def _months(timeline: list[mapping.MonthCount]) -> list[str]:
    """Every month from the timeline's first to its last, empty ones included: the slider's steps."""
    if not timeline:
        return []
    first, last = min(m.month for m in timeline), max(m.month for m in timeline)
    year, number = (int(part) for part in first.split("-"))
    months = []
    while (current := f"{year:04d}-{number:02d}") <= last:
        months.append(current)
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return months


def _timeline_rows(timeline: list[mapping.MonthCount], families: dict[str, str]) -> list[tuple[str, str, int]]:
    """(month, "family: n, family: n", total) per month: the timeline's table."""
    by_month: dict[str, list[mapping.MonthCount]] = {}
    for row in timeline:
        by_month.setdefault(row.month, []).append(row)
    return [
        (
            month,
            ", ".join(f"{families.get(r.tactic_family, r.tactic_family)}: {r.count}" for r in rows),
            sum(r.count for r in rows),
        )
        for month, rows in sorted(by_month.items())
    ]


@dataclass(frozen=True)
class IncidentTable:
    rows: list[dict[str, Any]]
    page: int
    next_href: str | None
    previous_href: str | None


def _incident_table(
    request: Request, node: Node, principal: Principal, flt: IncidentFilter, links: Links
) -> IncidentTable:
    """One page of the matching incidents, newest first. Keyset cursors only go forward, so the address also keeps
    the cursors of the pages before (`prev`), for the link back."""
    cursor = request.query_params.get("cursor") or None
    prev = request.query_params.getlist("prev")
    found = incidents.search_incidents(
        node, principal, incidents.IncidentQuery(filter=flt, sort="-date", limit=PAGE_SIZE, cursor=cursor)
    )
    taxonomy = node.taxonomy
    rows = [
        {
            "id": str(item.id),
            "date": item.date_start.isoformat(),
            "origins": ", ".join(country_name(code) for code in item.origin_countries),
            "hosts": ", ".join(country_name(code) for code in dict.fromkeys(loc.country for loc in item.locations)),
            "families": ", ".join(taxonomy.vocabulary("tactic_families").label(f) for f in item.tactic_families),
            "verification": taxonomy.vocabulary("verification_levels").label(item.verification),
        }
        for item in found.items
    ]
    previous_href = None
    if cursor:
        back = prev[-1] if prev else FIRST_PAGE
        previous_href = links.page(None if back == FIRST_PAGE else back, prev[:-1])
    next_href = links.page(found.next_cursor, [*prev, cursor or FIRST_PAGE]) if found.next_cursor else None
    return IncidentTable(
        rows=rows, page=len(prev) + 1 if cursor else 1, next_href=next_href, previous_href=previous_href
    )


def _drawn(
    node: Node, principal: Principal, view: mapping.MapView, flt: IncidentFilter, layers: Layers
) -> dict[str, Any]:
    """What the map's script draws: the countries (with their ISO numeric codes, the shapes' names), the flows, and
    the points when that layer is on."""
    numeric = numeric_codes()

    def countries(rows: list[Any]) -> list[dict[str, Any]]:
        return [{"country": v.value, "numeric": numeric.get(v.value), "label": v.label, "count": v.count} for v in rows]

    drawn: dict[str, Any] = {
        "total": view.total,
        "hosts": countries(view.hosts),
        "origins": countries(view.origins),
        "flows": [
            {
                "origin": f.origin,
                "host": f.host,
                "origin_label": country_name(f.origin),
                "host_label": country_name(f.host),
                "from": numeric.get(f.origin),
                "to": numeric.get(f.host),
                "count": f.count,
            }
            for f in view.flows
        ],
        "points": None,
    }
    if layers.points:
        found = map_points.map_points(node, principal, flt)
        tactics = node.taxonomy.vocabulary("tactics")
        drawn["points"] = {
            "items": [
                {
                    "id": str(p.incident_id),
                    "date": p.date.isoformat(),
                    "lat": p.lat,
                    "lon": p.lon,
                    "precision": p.geo_precision,
                    "tactics": [tactics.label(t) for t in p.tactics],
                }
                for p in found.points
            ],
            "capped": found.capped,
            "drawable": found.drawable,
            "country_only": found.country_only,
        }
    return drawn


# -- what the script asks for ------------------------------------------------------------------------------------------


@router.get("/app/api/map", dependencies=[staff_permits("incident:read")])
def map_frame(
    request: Request,
    principal: Principal = Depends(staff_principal),
    flt: IncidentFilter = Depends(page_filter),
    layers: Layers = Depends(page_layers),
    month: str | None = Depends(page_month),
) -> JSONResponse:
    """What the map draws for the page's address: the time slider's frames and the layers switched on in place."""
    node = _node(request)
    frame_filter = month_frame(flt, month)
    shown = frame_filter or flt
    view = mapping.map_view(node, principal, shown)
    drawn = _drawn(node, principal, view, shown, layers)
    return JSONResponse({**drawn, "month": month if frame_filter is not None else None})


# -- exports -----------------------------------------------------------------------------------------------------------

_EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


def _export(request: Request, principal: Principal, flt: IncidentFilter, fmt: str) -> StreamingResponse:
    """The incidents matching the page's filter in `fmt`, as the API and the CLI write them (services/exports.py):
    spooled to a temporary file first, so that an export that fails answers with an error, not half a file."""
    spool = cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024))  # noqa: SIM115  # _chunks closes it
    try:
        exports.export_incidents(_node(request), principal, flt, fmt, spool)
    except BaseException:
        spool.close()
        raise
    name = f"tnrwatch-incidents-{dt.date.today().isoformat()}.{fmt}"
    return StreamingResponse(
        _chunks(spool),
        media_type=_EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _chunks(spool: BinaryIO) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(64 * 1024):
            yield chunk
    finally:
        spool.close()


@router.get("/app/map/incidents.csv", response_class=StreamingResponse, dependencies=[staff_permits("incident:read")])
def export_csv(
    request: Request,
    principal: Principal = Depends(staff_principal),
    flt: IncidentFilter = Depends(page_filter),
) -> StreamingResponse:
    return _export(request, principal, flt, "csv")


@router.get(
    "/app/map/incidents.geojson", response_class=StreamingResponse, dependencies=[staff_permits("incident:read")]
)
def export_geojson(
    request: Request,
    principal: Principal = Depends(staff_principal),
    flt: IncidentFilter = Depends(page_filter),
) -> StreamingResponse:
    return _export(request, principal, flt, "geojson")
