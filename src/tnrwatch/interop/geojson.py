"""Incidents as GeoJSON (RFC 7946): one feature per location.

Nothing is drawn more precisely than it is known: a location without coordinates has a null geometry (an unlocated
feature, which RFC 7946 allows), and a location obfuscated for safety never carries its coordinates or place out of the
node, only its country.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from tnrwatch.domain.incident import IncidentOut, Location
from tnrwatch.taxonomy import Taxonomy


def location_feature(incident: IncidentOut, position: int, location: Location) -> dict[str, Any]:
    hidden = location.obfuscated
    geometry = None
    if location.lat is not None and location.lon is not None and not hidden:
        geometry = {"type": "Point", "coordinates": [location.lon, location.lat]}
    return {
        "type": "Feature",
        "id": f"{incident.id}/{position}",
        "geometry": geometry,
        "properties": {
            "incident_id": str(incident.id),
            "title": incident.title,
            "date_start": incident.date_start.isoformat(),
            "date_end": incident.date_end.isoformat() if incident.date_end else None,
            "date_precision": incident.date_precision,
            "host_country": location.country,
            "admin1": None if hidden else location.admin1,
            "place": None if hidden else location.place,
            "geo_precision": "country" if hidden else location.geo_precision,
            "obfuscated": hidden,
            "origin_countries": list(incident.origin_countries),
            "tactics": list(incident.tactics),
            "tactic_families": list(incident.tactic_families),
            "target_categories": list(incident.target_categories),
            "vulnerability_flags": list(incident.vulnerability_flags),
            "host_state_role": incident.host_state_role,
            "verification": incident.verification,
            "tlp": incident.tlp,
            "indicators": [indicator.model_dump(mode="json") for indicator in incident.indicators],
            "synthetic": incident.synthetic,
        },
    }


def features(incidents: Iterable[IncidentOut]) -> Iterator[dict[str, Any]]:
    for incident in incidents:
        for position, location in enumerate(incident.locations):
            yield location_feature(incident, position, location)


def incidents_to_feature_collection(
    incidents: Iterable[IncidentOut], taxonomy: Taxonomy, *, next_cursor: str | None = None
) -> bytes:
    items = list(incidents)
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "taxonomy_version": taxonomy.version,
        "synthetic": any(incident.synthetic for incident in items),
        "features": list(features(items)),
    }
    if next_cursor is not None:
        collection["next_cursor"] = next_cursor
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
