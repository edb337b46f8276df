"""The map's points layer: the locations of the incidents matching a filter that may be drawn as points.

A location is drawn as a point only when it is known to a point or a place (`COORDINATE_PRECISIONS`), has
coordinates, and is not obfuscated for safety. Every other matching location (an admin area, a country, an
obfuscated spot) is only counted: the map shows it through its country's colour, never as a point. The reader sees
the incidents a search shows them (services/incidents.py, `visible_incidents`), and no point carries a title, a
place name or a person: an incident's id, date and tactics only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.domain.incident import COORDINATE_PRECISIONS
from tnrwatch.services.incidents import visible_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store import queries
from tnrwatch.store.models import Incident, IncidentLocation, IncidentTactic

MAX_POINTS = 5000


@dataclass(frozen=True)
class MapPoint:
    incident_id: uuid.UUID
    date: dt.date
    lat: float
    lon: float
    geo_precision: str  # "point" or "place": a place's coordinates stand for the whole locality
    tactics: tuple[str, ...]


@dataclass(frozen=True)
class MapPoints:
    points: list[MapPoint]  # the newest first
    capped: bool  # more locations could be drawn than `limit`: only the newest are
    drawable: int  # matching locations that could be drawn as points
    country_only: int  # matching locations counted at country level only (coarser, obfuscated or without coordinates)


def map_points(node: Node, principal: Principal, flt: IncidentFilter, limit: int = MAX_POINTS) -> MapPoints:
    """The points of the incidents matching `flt` that `principal` may read, newest first, at most `limit`."""
    require(principal, "incident:read")
    if limit < 0:
        raise ValueError("limit must not be negative")
    with node.counting_session(flt) as (session, dialect):  # the map's columnar copy, as for the counts
        where = queries.conditions(flt, node.taxonomy, dialect) + visible_incidents(session, principal)
        drawable: list[ColumnElement[bool]] = [
            IncidentLocation.geo_precision.in_(sorted(COORDINATE_PRECISIONS)),
            IncidentLocation.obfuscated.is_(False),
            IncidentLocation.lat.is_not(None),
            IncidentLocation.lon.is_not(None),
        ]
        # Both counts in one pass over the matching locations.
        counted = (
            select(func.count(), func.count().filter(and_(*drawable)))
            .select_from(IncidentLocation)
            .join(Incident)
            .where(*where)
        )
        all_locations, drawable_count = session.execute(counted).one()
        newest = (
            select(
                Incident.id,
                Incident.uuid,
                Incident.date_start,
                IncidentLocation.lat,
                IncidentLocation.lon,
                IncidentLocation.geo_precision,
                IncidentLocation.position,
            )
            .join(IncidentLocation, IncidentLocation.incident_id == Incident.id)
            .where(*where, *drawable)
            .order_by(Incident.date_start.desc(), Incident.id.desc(), IncidentLocation.position)
            .limit(limit)
            .subquery()
        )
        rows = session.execute(
            select(
                newest.c.id, newest.c.uuid, newest.c.date_start, newest.c.lat, newest.c.lon, newest.c.geo_precision
            ).order_by(newest.c.date_start.desc(), newest.c.id.desc(), newest.c.position)
        ).all()
        # Their tactics in one statement over the same points (no list of ids sent back).
        tactics: dict[int, list[str]] = defaultdict(list)
        found = (
            select(IncidentTactic.incident_id, IncidentTactic.tactic)
            .where(IncidentTactic.incident_id.in_(select(newest.c.id)))
            .order_by(IncidentTactic.tactic)
        )
        for incident_id, tactic in session.execute(found):
            tactics[incident_id].append(tactic)
    points = [
        MapPoint(
            incident_id=incident_uuid if isinstance(incident_uuid, uuid.UUID) else uuid.UUID(hex=incident_uuid),
            date=date,
            lat=lat,
            lon=lon,
            geo_precision=precision,
            tactics=tuple(tactics[row_id]),
        )
        for row_id, incident_uuid, date, lat, lon, precision in rows
        if lat is not None and lon is not None  # always, by the query: for the type checker
    ]
    return MapPoints(
        points=points,
        capped=drawable_count > len(points),
        drawable=drawable_count,
        country_only=all_locations - drawable_count,
    )
