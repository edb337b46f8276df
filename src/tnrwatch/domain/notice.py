"""Notices under vetting (Interpol notices, diffusions, extradition and mutual legal assistance requests) and the
protected-persons registry they are screened against.

Field names follow Interpol's public notice JSON (`forename`, `name`, `date_of_birth` as "YYYY/MM/DD",
`nationalities`, `sex_id`, `place_of_birth`, `country_of_birth_id`, `entity_id`,
`arrest_warrants[{issuing_country_id, charge, charge_translation}]`), so a notice as Interpol publishes it validates
without a mapping: our own names and Interpol's are both accepted. Interpol's descriptive fields that vetting does not
use (height, eye colour, languages, links) are dropped on purpose; any other unknown field is an error, so that a
misspelt field never vanishes silently.

The subject of a notice and a registry entry's identity are personal data: services seal them in the vault
(`NoticeSubject`, `ProtectedIdentity`); what stays in the clear is what a list and the red-flag rules need.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tnrwatch.domain.codes import CountryCode
from tnrwatch.domain.text import LongText, ShortLine

NOTICE_TYPES: tuple[str, ...] = (
    "red_notice",
    "blue_notice",
    "diffusion",
    "extradition_request",
    "mutual_legal_assistance",
)
NoticeType = Literal["red_notice", "blue_notice", "diffusion", "extradition_request", "mutual_legal_assistance"]
DECISIONS: tuple[str, ...] = ("none", "proceed", "consult_focal_point", "do_not_act")
Decision = Literal["none", "proceed", "consult_focal_point", "do_not_act"]
Sex = Literal["M", "F", "U"]
REGISTRY_CATEGORIES: tuple[str, ...] = ("hrd", "journalist", "refugee", "asylum_seeker", "incident_target", "other")
RegistryCategory = Literal["hrd", "journalist", "refugee", "asylum_seeker", "incident_target", "other"]
DatePrecision = Literal["year", "month", "day"]

# Interpol's descriptive fields that vetting does not use; dropped on input rather than refused.
INTERPOL_IGNORED_FIELDS = frozenset(
    {
        "_links",
        "_embedded",
        "weight",
        "height",
        "eyes_colors_id",
        "hairs_id",
        "distinguishing_marks",
        "languages_spoken_ids",
    }
)

# -- partial dates ---------------------------------------------------------------------------------------------------

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:([-/.])(\d{1,2})(?:\2(\d{1,2}))?)?$")
MIN_YEAR = 1880


def parse_partial_date(text: str) -> tuple[int, int | None, int | None]:
    """Read "1980", "1980-04", "1980-04-02" or Interpol's "1980/04/02" (one separator throughout) into
    (year, month, day), month and day None when not given. Raise `ValueError` saying what is expected."""
    match = _PARTIAL_DATE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD (or Interpol's YYYY/MM/DD)")
    year = int(match.group(1))
    month = int(match.group(3)) if match.group(3) else None
    day = int(match.group(4)) if match.group(4) else None
    if year < MIN_YEAR:
        raise ValueError(f"the year {year} is before {MIN_YEAR}")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"the month {month} is not between 1 and 12")
    if day is not None:
        assert month is not None  # the pattern only reads a day after a month
        try:
            dt.date(year, month, day)
        except ValueError:
            raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is not a day of the calendar") from None
    return year, month, day


class PartialDate(BaseModel):
    """A date known to the year, the month or the day. Written and read as "1980", "1980-04" or "1980-04-02"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int
    month: int | None = None
    day: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, dt.date):
            return {"year": value.year, "month": value.month, "day": value.day}
        if isinstance(value, str):
            try:
                year, month, day = parse_partial_date(value)
            except ValueError as exc:
                raise PydanticCustomError("partial_date", "{message}", {"message": str(exc)}) from None
            return {"year": year, "month": month, "day": day}
        return value

    @model_validator(mode="after")
    def _check(self) -> PartialDate:
        text = self.isoformat()
        parse_partial_date(text)  # the same rules whatever way it came in (raises ValueError -> a field error)
        if (self.year, self.month or 1, self.day or 1) > dt.date.today().timetuple()[:3]:
            raise ValueError(f"{text} is in the future")
        return self

    @property
    def precision(self) -> DatePrecision:
        return "day" if self.day is not None else "month" if self.month is not None else "year"

    def isoformat(self) -> str:
        if self.day is not None and self.month is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def earliest(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @model_serializer(mode="plain")
    def _to_text(self) -> str:
        return self.isoformat()


# -- Interpol references ---------------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"^(\d{4})[/-](\d{5})$")


def parse_interpol_reference(text: str) -> str:
    """Return an Interpol reference as `YYYY/NNNNN` (Interpol's web addresses write `YYYY-NNNNN`, which is read too),
    or raise `ValueError`."""
    match = _REFERENCE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an Interpol reference: write YYYY/NNNNN, e.g. 2024/12345")
    year = int(match.group(1))
    if not 1946 <= year <= dt.date.today().year:  # Interpol's notice system dates from 1946
        raise ValueError(f"{text!r} has the year {year}, which is not a year of Interpol notices")
    return f"{match.group(1)}/{match.group(2)}"


def _reference(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_interpol_reference(value)
    except ValueError as exc:
        raise PydanticCustomError("interpol_reference", "{message}", {"message": str(exc)}) from None


InterpolReference = Annotated[str, BeforeValidator(_reference)]


def _empty_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _sex(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


# -- notices ---------------------------------------------------------------------------------------------------------


class OtherName(BaseModel):
    """Another name or spelling of a person; `script` is an optional ISO 15924 hint (Latn, Cyrl, Arab, Hans, ...)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: ShortLine
    script: Annotated[str, Field(pattern=r"^[A-Z][a-z]{3}$")] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class ArrestWarrant(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, populate_by_name=True)

    issuing_country_id: CountryCode = Field(
        validation_alias=AliasChoices("issuing_country_id", "issuing_country"),
        description="The state that issued the warrant (ISO 3166-1 alpha-2).",
    )
    charge: Annotated[LongText, Field(min_length=1)] = Field(description="The charge as the notice states it.")
    charge_translation: Annotated[LongText | None, BeforeValidator(_empty_to_none)] = Field(
        None, description="The charge in the original language (Interpol: its translation), if given."
    )
    legal_provision: Annotated[Annotated[str, Field(max_length=300)] | None, BeforeValidator(_empty_to_none)] = Field(
        None, description="The article of the requesting state's code, e.g. 'Art. 159-4 Criminal Code'."
    )


class NoticeSubject(BaseModel):
    """Who a notice is about. Sealed in the vault; read only by whoever may read notices, and the read is recorded."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    forename: ShortLine | None = None
    name: ShortLine
    other_names: list[OtherName] = Field(default_factory=list, max_length=30)
    date_of_birth: PartialDate | None = None
    sex: Sex = "U"
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=6)
    place_of_birth: ShortLine | None = None
    country_of_birth: CountryCode | None = None


class NoticeIn(BaseModel):
    """A notice as entered or imported: flat, in Interpol's field names (our names are accepted too)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, populate_by_name=True)

    id: UUID | None = None
    notice_type: NoticeType
    interpol_reference: InterpolReference | None = Field(
        None,
        validation_alias=AliasChoices("interpol_reference", "entity_id"),
        description="Interpol's reference, YYYY/NNNNN (Interpol's `entity_id`).",
    )
    requesting_state: CountryCode = Field(description="Who asks (ISO 3166-1 alpha-2); default: the first warrant's.")
    forename: Annotated[ShortLine | None, BeforeValidator(_empty_to_none)] = None
    name: ShortLine = Field(description="The family name, as the notice writes it.")
    other_names: list[OtherName] = Field(default_factory=list, max_length=30)
    date_of_birth: Annotated[PartialDate | None, BeforeValidator(_empty_to_none)] = Field(
        None, description='"1980", "1980-04" or "1980-04-02"; Interpol\'s "1980/04/02" too.'
    )
    sex: Annotated[Sex, BeforeValidator(_sex)] = Field("U", validation_alias=AliasChoices("sex", "sex_id"))
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=6)
    place_of_birth: Annotated[ShortLine | None, BeforeValidator(_empty_to_none)] = None
    country_of_birth: Annotated[CountryCode | None, BeforeValidator(_empty_to_none)] = Field(
        None, validation_alias=AliasChoices("country_of_birth", "country_of_birth_id")
    )
    arrest_warrants: list[ArrestWarrant] = Field(default_factory=list, max_length=50)
    issued: dt.date | None = None
    received: dt.date | None = Field(None, description="When the node received it; default: today.")
    decision_due: dt.date | None = None
    synthetic: bool = Field(False, description="Made-up data (demo, training).")

    @model_validator(mode="before")
    @classmethod
    def _interpol_shape(cls, value: Any) -> Any:
        """Drop Interpol's unused descriptive fields; take the type from Interpol's own address of the notice and the
        requesting state from the first warrant when they are not given."""
        if not isinstance(value, dict):
            return value
        raw = {key: item for key, item in value.items() if key not in INTERPOL_IGNORED_FIELDS}
        if not raw.get("notice_type"):
            href = ((value.get("_links") or {}).get("self") or {}).get("href") if isinstance(value, dict) else None
            if isinstance(href, str) and "/notices/v1/red/" in href:
                raw["notice_type"] = "red_notice"
        if not raw.get("requesting_state"):
            warrants = raw.get("arrest_warrants")
            if isinstance(warrants, list) and warrants and isinstance(warrants[0], dict):
                raw["requesting_state"] = warrants[0].get("issuing_country_id") or warrants[0].get("issuing_country")
        for key in ("nationalities", "other_names", "arrest_warrants"):
            if raw.get(key) is None and key in raw:
                raw[key] = []  # Interpol writes null for "none"
        return raw

    @field_validator("nationalities")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _dates_in_order(self) -> NoticeIn:
        if self.issued and self.received and self.received < self.issued:
            raise ValueError("received must not be before issued")
        if self.decision_due and self.received and self.decision_due < self.received:
            raise ValueError("decision_due must not be before received")
        return self

    def subject(self) -> NoticeSubject:
        return NoticeSubject(
            forename=self.forename,
            name=self.name,
            other_names=self.other_names,
            date_of_birth=self.date_of_birth,
            sex=self.sex,
            nationalities=self.nationalities,
            place_of_birth=self.place_of_birth,
            country_of_birth=self.country_of_birth,
        )


class DecisionIn(BaseModel):
    """The liaison's decision on a notice, and why (no names in the reasons: they are kept in the clear)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    decision: Literal["proceed", "consult_focal_point", "do_not_act"]
    reasons: Annotated[LongText, Field(min_length=1)]


class NoticeSummary(BaseModel):
    """A notice in a list: no subject."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    notice_type: NoticeType
    interpol_reference: str | None
    requesting_state: str
    charges: list[str]
    issued: dt.date | None
    received: dt.date
    decision_due: dt.date | None
    decision: Decision
    synthetic: bool
    created_at: dt.datetime


class NoticeOut(NoticeSummary):
    """A notice read on its own: the subject is opened from the vault (the read is recorded)."""

    arrest_warrants: list[ArrestWarrant]
    decision_reasons: str | None
    decided_at: dt.datetime | None
    decided_by: str | None
    version: int
    subject: NoticeSubject


# -- the protected-persons registry ----------------------------------------------------------------------------------


class ProtectedIdentity(BaseModel):
    """Who a registry entry is. Sealed in the vault; screening opens it into memory, never into a list."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    full_name: ShortLine
    other_names: list[OtherName] = Field(default_factory=list, max_length=30)
    date_of_birth: PartialDate | None = None
    sex: Sex = "U"
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=6)
    note: LongText = ""


class ProtectedPersonIn(BaseModel):
    """A registry entry as imported: flat, identity fields beside the clear ones."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: UUID | None = None
    full_name: ShortLine
    other_names: list[OtherName] = Field(default_factory=list, max_length=30)
    date_of_birth: Annotated[PartialDate | None, BeforeValidator(_empty_to_none)] = None
    sex: Annotated[Sex, BeforeValidator(_sex)] = "U"
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=6)
    note: LongText = ""
    category: RegistryCategory
    origin_state: Annotated[CountryCode | None, BeforeValidator(_empty_to_none)] = Field(
        None, description="The state the person is protected from (ISO 3166-1 alpha-2)."
    )
    focal_point: Annotated[Annotated[str, Field(max_length=16)] | None, BeforeValidator(_empty_to_none)] = Field(
        None, description="The jurisdiction to contact about the person (a code `tnrwatch jurisdictions` lists)."
    )
    synthetic: bool = False

    def identity(self) -> ProtectedIdentity:
        return ProtectedIdentity(
            full_name=self.full_name,
            other_names=self.other_names,
            date_of_birth=self.date_of_birth,
            sex=self.sex,
            nationalities=list(dict.fromkeys(self.nationalities)),
            note=self.note,
        )


class ProtectedPersonOut(BaseModel):
    """A registry entry by pseudonym: never its identity."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    pseudonym: str
    category: RegistryCategory
    origin_state: str | None
    focal_point: str | None
    synthetic: bool
    created_at: dt.datetime
