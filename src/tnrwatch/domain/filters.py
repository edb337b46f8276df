"""How incidents are searched: the filter, the sort orders and the facets, shared by the API, exports and the CLI.

Within one filter field the values are alternatives (OR); different fields must all hold (AND).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tnrwatch.domain.codes import (
    CountryCode,
    HostStateRoleCode,
    TacticCode,
    TacticFamilyCode,
    TargetCategoryCode,
    TlpCode,
    VerificationCode,
    VulnerabilityCode,
)
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import FieldError
from tnrwatch.taxonomy import Taxonomy

SortKey = Literal["date", "-date", "created", "-created", "updated", "-updated"]
SORT_KEYS: tuple[str, ...] = ("date", "-date", "created", "-created", "updated", "-updated")

FacetName = Literal[
    "origin",
    "host",
    "tactic",
    "tactic_family",
    "target_category",
    "vulnerability",
    "verification",
    "tlp",
    "host_state_role",
    "date_precision",
    "year",
]
FACET_NAMES: tuple[str, ...] = FacetName.__args__  # type: ignore[attr-defined]  # Literal keeps its values here


class BBox(BaseModel):
    """A bounding box in degrees: west, south, east, north (GeoJSON order). West may exceed east across the 180th
    meridian."""

    model_config = ConfigDict(frozen=True)

    west: float = Field(ge=-180, le=180)
    south: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=180)
    north: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _south_below_north(self) -> Self:
        if self.south > self.north:
            raise PydanticCustomError("bbox", "south must not exceed north")
        return self

    @classmethod
    def parse(cls, text: str) -> BBox:
        """Parse 'west,south,east,north'; raise ValueError saying what is expected."""
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 4:
            raise ValueError("bbox must be four numbers: west,south,east,north")
        try:
            west, south, east, north = (float(part) for part in parts)
        except ValueError:
            raise ValueError("bbox must be four numbers: west,south,east,north") from None
        return cls(west=west, south=south, east=east, north=north)


class IncidentFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: list[CountryCode] = Field(default_factory=list, description="Origin (perpetrator) state, ISO alpha-2.")
    host: list[CountryCode] = Field(default_factory=list, description="Host state where it happened, ISO alpha-2.")
    tactic: list[TacticCode] = Field(default_factory=list, description="Tactic code.")
    tactic_family: list[TacticFamilyCode] = Field(default_factory=list, description="Tactic family code.")
    target_category: list[TargetCategoryCode] = Field(default_factory=list, description="Target category code.")
    vulnerability: list[VulnerabilityCode] = Field(default_factory=list, description="Vulnerability flag code.")
    verification: list[VerificationCode] = Field(default_factory=list, description="Verification level code.")
    tlp: list[TlpCode] = Field(default_factory=list, description="TLP marking code.")
    host_state_role: list[HostStateRoleCode] = Field(default_factory=list, description="Host-state role code.")
    date_from: dt.date | None = Field(None, description="Incidents whose date range ends on or after this day.")
    date_to: dt.date | None = Field(None, description="Incidents whose date range starts on or before this day.")
    q: str | None = Field(None, max_length=200, description="Full-text search over title and summary (all words).")
    bbox: BBox | None = Field(None, description="Locations with coordinates inside west,south,east,north.")
    synthetic: bool | None = Field(None, description="Only synthetic (true) or only real (false) incidents.")

    @field_validator("q")
    @classmethod
    def _blank_q_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise PydanticCustomError("date_order", "date_from must not be after date_to")
        return self

    def is_empty(self) -> bool:
        return self == IncidentFilter()


LIST_FIELDS: tuple[str, ...] = tuple(
    name for name, field in IncidentFilter.model_fields.items() if str(field.annotation).startswith("list[")
)


def split_values(values: Sequence[str] | str | None) -> list[str]:
    """Values given as repeated parameters, comma-separated, or both: `origin=CN&origin=RU` or `origin=CN,RU`."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else values
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def filter_from_parameters(parameters: Mapping[str, Any], taxonomy: Taxonomy) -> IncidentFilter | list[FieldError]:
    """A filter from text parameters, as the API's query string and the CLI's options give them: list fields repeated
    or comma-separated, `bbox` as 'west,south,east,north'. Returns the filter, or every problem, located by field."""
    values = {name: value for name, value in parameters.items() if value is not None}
    for name in LIST_FIELDS:
        values[name] = split_values(values.get(name))
    errors: list[FieldError] = []
    if isinstance(values.get("bbox"), str):
        try:
            values["bbox"] = BBox.parse(values["bbox"])
        except ValueError as exc:
            errors.append(FieldError(("bbox",), str(exc)))
            del values["bbox"]
    parsed = try_validate(IncidentFilter, values, taxonomy)
    if isinstance(parsed, list):
        return errors + parsed
    return errors or parsed
