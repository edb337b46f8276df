"""An incident: one coded act of transnational repression, as it enters and leaves tnrwatch.

`IncidentIn` is what a coder, an import or the API supplies; validating it against the taxonomy (see `codes.py`)
checks every code and every rule that spans fields, and reports all problems at once. Lists of codes are put in
taxonomy order and de-duplicated, and partial dates are widened to their range, so that equal incidents look equal.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Self, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tnrwatch.domain.codes import (
    ActorRoleCode,
    CountryCode,
    CredibilityCode,
    DatePrecisionCode,
    GeoPrecisionCode,
    HostStateRoleCode,
    PersonRoleCode,
    ReliabilityCode,
    TacticCode,
    TargetCategoryCode,
    TlpCode,
    VerificationCode,
    VulnerabilityCode,
    taxonomy_of,
)
from tnrwatch.domain.indicators import MAX_VALUE_LENGTH, IndicatorKind, normalise_indicator
from tnrwatch.domain.text import Line, LongText, ShortLine, Version, WebAddress

MASS_EVENT_TARGETS = 3  # DESIGN.md: a mass event targets three or more people
EARLIEST_DATE = dt.date(1900, 1, 1)
COORDINATE_PRECISIONS = frozenset({"point", "place"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Location(_Strict):
    """Where (part of) an incident happened. Coordinates are kept only as precisely as `geo_precision` says; an
    `obfuscated` location is stored exactly for staff but must never be shown more precisely than its country."""

    country: CountryCode
    geo_precision: GeoPrecisionCode = "country"
    admin1: ShortLine | None = None
    place: ShortLine | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    obfuscated: bool = False

    @model_validator(mode="after")
    def _precision_matches_detail(self) -> Self:
        has_point = self.lat is not None or self.lon is not None
        if (self.lat is None) != (self.lon is None):
            raise PydanticCustomError("coordinates", "give both lat and lon, or neither")
        if self.geo_precision == "point" and not has_point:
            raise PydanticCustomError("coordinates", "geo_precision 'point' needs lat and lon")
        if has_point and self.geo_precision not in COORDINATE_PRECISIONS:
            raise PydanticCustomError(
                "coordinates",
                "coordinates are only kept for geo_precision 'point' or 'place', not {precision!r}",
                {"precision": self.geo_precision},
            )
        if self.geo_precision == "place" and not self.place:
            raise PydanticCustomError("place", "geo_precision 'place' needs a place name")
        if self.geo_precision == "admin1" and not self.admin1:
            raise PydanticCustomError("admin1", "geo_precision 'admin1' needs an admin1 (region) name")
        return self


class Source(_Strict):
    """A source the coding rests on, graded on the Admiralty scale: `reliability` of the source (A-F) and
    `credibility` of this piece of information (1-6)."""

    title: Line
    url: WebAddress | None = None
    publisher: ShortLine | None = None
    published_on: dt.date | None = None
    reliability: ReliabilityCode = "F"
    credibility: CredibilityCode = "6"


class Indicator(_Strict):
    """A technical indicator a lab found in a digital-repression incident (a spyware domain, a phishing address ...):
    its kind, its value in canonical form (domain/indicators.py), and when it was seen. Its position in the
    incident's list is its identity outside the node (interop/stix.py)."""

    kind: IndicatorKind
    value: str = Field(min_length=1, max_length=MAX_VALUE_LENGTH)
    note: Line | None = None
    first_seen: dt.date | None = None
    last_seen: dt.date | None = None

    @field_validator("value")
    @classmethod
    def _canonical_value(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is None:
            return value  # the kind is wrong: that error is the one to read
        try:
            return normalise_indicator(kind, value)
        except ValueError as exc:
            raise PydanticCustomError("indicator_value", "{problem}", {"problem": str(exc)}) from None

    @field_validator("last_seen")
    @classmethod
    def _seen_in_order(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        first = info.data.get("first_seen")
        if value is not None and first is not None and value < first:
            raise PydanticCustomError("date_order", "must be on or after first_seen ({first})", {"first": str(first)})
        return value


class PersonLink(_Strict):
    id: UUID
    role: PersonRoleCode = "target"


class ActorLink(_Strict):
    id: UUID
    role: ActorRoleCode = "perpetrator"


def _ordered_unique(values: list[str], vocabulary: str, info: ValidationInfo) -> list[str]:
    return sorted(set(values), key=taxonomy_of(info).vocabulary(vocabulary).rank)


def date_range_end(start: dt.date, precision: str) -> dt.date:
    """The last day a date of this precision may stand for: the month's or the year's last day."""
    if precision == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if precision == "year":
        return start.replace(month=12, day=31)
    return start


def date_range_start(start: dt.date, precision: str) -> dt.date:
    if precision == "month":
        return start.replace(day=1)
    if precision == "year":
        return start.replace(month=1, day=1)
    return start


class IncidentIn(_Strict):
    """An incident as supplied for creation or import. `id` may be given (imports, federation); else one is made."""

    id: UUID | None = None
    title: Line
    summary: LongText = ""
    date_start: dt.date
    date_end: dt.date | None = None
    date_precision: DatePrecisionCode = "day"
    locations: list[Location] = Field(min_length=1, max_length=50)
    origin_countries: list[CountryCode] = Field(min_length=1, max_length=10)
    tactics: list[TacticCode] = Field(min_length=1, max_length=40)
    target_categories: list[TargetCategoryCode] = Field(default_factory=list, max_length=20)
    vulnerability_flags: list[VulnerabilityCode] = Field(default_factory=list, max_length=20)
    host_state_role: HostStateRoleCode = "unknown"
    target_count: int | None = Field(None, ge=1, le=1_000_000)
    mass_event: bool = False
    verification: VerificationCode = "reported"
    tlp: TlpCode = "amber"
    sources: list[Source] = Field(default_factory=list, max_length=200)
    persons: list[PersonLink] = Field(default_factory=list, max_length=500)
    actors: list[ActorLink] = Field(default_factory=list, max_length=200)
    indicators: list[Indicator] = Field(default_factory=list, max_length=200)
    taxonomy_version: Version | None = None
    provenance: Line | None = None
    synthetic: bool = False

    @field_validator("origin_countries")
    @classmethod
    def _sort_countries(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @field_validator("tactics")
    @classmethod
    def _order_tactics(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return _ordered_unique(value, "tactics", info)

    @field_validator("target_categories")
    @classmethod
    def _order_targets(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return _ordered_unique(value, "target_categories", info)

    @field_validator("vulnerability_flags")
    @classmethod
    def _order_flags(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return _ordered_unique(value, "vulnerability_flags", info)

    @field_validator("date_start")
    @classmethod
    def _not_too_early(cls, value: dt.date) -> dt.date:
        if value < EARLIEST_DATE:
            raise PydanticCustomError("date", "must be on or after 1900-01-01")
        return value

    @field_validator("date_end")
    @classmethod
    def _end_after_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("date_start")
        if value is not None and start is not None and value < start:
            raise PydanticCustomError("date_order", "must be on or after date_start ({start})", {"start": str(start)})
        return value

    @field_validator("mass_event")
    @classmethod
    def _mass_event_matches_count(cls, value: bool, info: ValidationInfo) -> bool:
        count = info.data.get("target_count")
        if count is not None and value != (count >= MASS_EVENT_TARGETS):
            raise PydanticCustomError(
                "mass_event",
                "must be {expected} when target_count is {count} (a mass event has {n} or more targets)",
                {
                    "expected": str(count >= MASS_EVENT_TARGETS).lower(),
                    "count": count,
                    "n": MASS_EVENT_TARGETS,
                },
            )
        return value

    @field_validator("persons")
    @classmethod
    def _persons_once(cls, value: list[PersonLink]) -> list[PersonLink]:
        return _links_once(value)

    @field_validator("actors")
    @classmethod
    def _actors_once(cls, value: list[ActorLink]) -> list[ActorLink]:
        return _links_once(value)

    @field_validator("indicators")
    @classmethod
    def _indicators_once(cls, value: list[Indicator]) -> list[Indicator]:
        """Keep the first of each (kind, value), in the order given (the order is the indicators' identity)."""
        first: dict[tuple[str, str], Indicator] = {}
        for indicator in value:
            first.setdefault((indicator.kind, indicator.value), indicator)
        return list(first.values())

    @model_validator(mode="before")
    @classmethod
    def _derive_mass_event(cls, data: Any) -> Any:
        """A known target count decides the mass-event flag when the input leaves the flag out. The count may come
        as text (CSV, mapped imports), which the field itself accepts too."""
        if not isinstance(data, dict) or "mass_event" in data:
            return data
        count = data.get("target_count")
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count.strip())
        if isinstance(count, int) and not isinstance(count, bool):
            return {**data, "mass_event": count >= MASS_EVENT_TARGETS}
        return data

    @model_validator(mode="after")
    def _widen_partial_dates(self) -> Self:
        start = date_range_start(self.date_start, self.date_precision)
        end = self.date_end or date_range_end(self.date_start, self.date_precision)
        if start != self.date_start or end != self.date_end:
            object.__setattr__(self, "date_start", start)
            object.__setattr__(self, "date_end", end)
        return self


LinkT = TypeVar("LinkT", PersonLink, ActorLink)


def _links_once(links: list[LinkT]) -> list[LinkT]:
    """Keep the first link to each person or actor; order by id so equal sets compare equal."""
    first: dict[UUID, LinkT] = {}
    for link in links:
        first.setdefault(link.id, link)
    return sorted(first.values(), key=lambda link: link.id)


class IncidentOut(IncidentIn):
    """An incident as stored: with its id, version, taxonomy version and bookkeeping."""

    id: UUID  # narrowed: a stored incident always has an id
    taxonomy_version: str  # narrowed: stamped when stored
    tactic_families: list[str]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    coded_by: str | None = None


INCIDENT_FIELDS: tuple[str, ...] = tuple(IncidentIn.model_fields)
