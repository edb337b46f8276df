"""/app/states and /app/states/{code}: the origin states with incidents, and one origin state's profile (tactics over
time, host countries, target categories, how host states responded, linked actors, latest incidents), over the
incidents the signed-in account may read (services/profiles.py). Charts are Vega-Lite specs from charts.py carried in
the page; every chart has a table with the same numbers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tnrwatch.domain.countries import country_names
from tnrwatch.services import profiles
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.staff import charts
from tnrwatch.web.staff.session import render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)
CHART_BARS = 15  # the longest bar charts; their tables hold every row


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.get("/app/states", response_class=HTMLResponse, dependencies=[staff_permits("incident:read")])
def states_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    states = profiles.origin_states(_node(request), principal)
    return render_staff(
        request,
        "staff/states.html",
        {"principal": principal, "states": states, "total": sum(state.count for state in states)},
    )


@router.get("/app/states/{code}", response_class=HTMLResponse, dependencies=[staff_permits("incident:read")])
def state_page(request: Request, code: str, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    node = _node(request)
    profile = profiles.state_profile(node, principal, code[:10])
    families = {term.code: term.label for term in node.taxonomy.tactic_families}
    specs: dict[str, Any] = {}
    if profile.total:
        specs["profile-timeline"] = charts.timeline(
            [{"month": m.month, "tactic_family": m.tactic_family, "count": m.count} for m in profile.timeline],
            families,
        )
        specs["profile-hosts"] = charts.bars(
            [(v.value, v.label, v.count) for v in profile.hosts[:CHART_BARS]], "Host state"
        )
        specs["profile-targets"] = charts.bars(
            [(v.value, v.label, v.count) for v in profile.target_categories[:CHART_BARS]], "Target category"
        )
    return render_staff(
        request,
        "staff/state.html",
        {
            "principal": principal,
            "profile": profile,
            "specs": specs,
            "years": _by_year(profile, families),
            "country_name": country_names(),
            "verification_label": {t.code: t.label for t in node.taxonomy.verification_levels},
            "chart_bars": CHART_BARS,
        },
    )


def _by_year(profile: profiles.StateProfile, families: dict[str, str]) -> dict[str, Any]:
    """The timeline's numbers by year and tactic family, for the table beside the chart (a month per row would be a
    table of a hundred rows). An incident with tactics of two families counts in both, as in the chart."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    present: set[str] = set()
    for row in profile.timeline:
        counts[int(row.month[:4])][row.tactic_family] += row.count
        present.add(row.tactic_family)
    columns = [(code, label) for code, label in families.items() if code in present]
    rows = [(year, [counts[year].get(code, 0) for code, _ in columns]) for year in sorted(counts)]
    return {"columns": columns, "rows": rows}
