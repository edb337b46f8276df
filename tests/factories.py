"""Small builders of valid input for tests."""

from __future__ import annotations

from typing import Any


def incident_data(**overrides: Any) -> dict[str, Any]:
    """A valid incident as the API takes it; override any field."""
    data: dict[str, Any] = {
        "title": "Activist abducted near a bus station",
        "summary": "A diaspora activist was forced into a car by two men and driven to the border.",
        "date_start": "2021-03-15",
        "date_precision": "day",
        "locations": [{"country": "TR", "geo_precision": "place", "place": "Istanbul", "lat": 41.01, "lon": 28.97}],
        "origin_countries": ["UZ"],
        "tactics": ["abduction"],
        "target_categories": ["activist"],
        "verification": "corroborated",
        "tlp": "amber",
        "sources": [
            {"title": "Monitor report", "url": "https://example.org/r/1", "reliability": "B", "credibility": "2"}
        ],
    }
    data.update(overrides)
    return data
