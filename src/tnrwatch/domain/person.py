"""Persons (targets, relatives, witnesses): a pseudonym for analysis, and identity fields that only the vault holds."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from tnrwatch.domain.codes import CountryCode
from tnrwatch.domain.text import LongText, ShortLine


class PersonIdentity(BaseModel):
    """Who a person is. Sealed in the vault; never in a list, an export or a log."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    full_name: ShortLine
    other_names: list[ShortLine] = Field(default_factory=list, max_length=20)
    date_of_birth: dt.date | None = None
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=5)
    contact: LongText = ""
    notes: LongText = ""


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: UUID | None = None
    pseudonym: ShortLine | None = Field(None, description="Made up when not given, e.g. P-7Q3K9M.")
    at_risk: bool = False
    consent_to_share: bool = Field(False, description="The person agreed that their identity may be shared.")
    identity: PersonIdentity | None = None


class PersonOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    pseudonym: str
    at_risk: bool
    consent_to_share: bool
    has_identity: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    identity: PersonIdentity | None = Field(
        None,
        description="Only when asked for explicitly by a role that may read identities; the read is recorded.",
    )
