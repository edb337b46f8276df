"""The map's numbers for one filter: incidents by host and by origin country (the two choropleths), origin -> host
flows, the timeline by month stacked by tactic family, and facet counts, all over the incidents the caller may read
(services/policy.py). One matching set serves them all (store/queries.py, MatchingSet).

Countries are the finest level here, so an obfuscated-for-safety location is never drawn more precisely than the
map's data allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from tnrwatch.domain.filters import FACET_NAMES, IncidentFilter
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services.incidents import FacetValue, facet_label, visible_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store import queries
from tnrwatch.taxonomy import Taxonomy


@dataclass(frozen=True)
class Flow:
    origin: str
    host: str
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    tactic_family: str
    count: int


@dataclass(frozen=True)
class MapView:
    total: int
    hosts: list[FacetValue]
    origins: list[FacetValue]
    flows: list[Flow]
    timeline: list[MonthCount]
    facets: dict[str, list[FacetValue]]


def _counted(
    session: Session, where: list[ColumnElement[bool]], names: Sequence[str], taxonomy: Taxonomy
) -> tuple[int, dict[str, list[tuple[str, int]]], list[Flow], list[MonthCount]]:
    with queries.MatchingSet(session, where, "-date") as matching:
        total = matching.count()
        counts = matching.facets(names, taxonomy)
        flows = [Flow(origin, host, n) for origin, host, n in matching.flows()]
        timeline = [MonthCount(f"{y:04d}-{m:02d}", family, n) for y, m, family, n in matching.timeline(taxonomy)]
    return total, counts, flows, timeline


def map_view(node: Node, principal: Principal, flt: IncidentFilter, facets: Sequence[str] = ()) -> MapView:
    """Every number the map shows for `flt`, from one pass over the matching incidents."""
    require(principal, "incident:read")
    unknown = [name for name in facets if name not in FACET_NAMES]
    if unknown:
        raise InvalidInputError(
            "the map request is invalid",
            [
                FieldError(("facets",), f"unknown facet {name!r}; valid facets: {', '.join(FACET_NAMES)}")
                for name in unknown
            ],
        )
    names = list(dict.fromkeys(["host", "origin", *facets]))
    with node.counting_session(flt) as (session, dialect):
        where = queries.conditions(flt, node.taxonomy, dialect) + visible_incidents(session, principal)
        total, counts, flows, timeline = _counted(session, where, names, node.taxonomy)
    labelled = {
        name: [FacetValue(value, facet_label(node.taxonomy, name, value), n) for value, n in pairs]
        for name, pairs in counts.items()
    }
    return MapView(
        total=total,
        hosts=labelled["host"],
        origins=labelled["origin"],
        flows=flows,
        timeline=timeline,
        facets={name: labelled[name] for name in facets},
    )
