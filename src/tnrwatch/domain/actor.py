"""Actors on the perpetrator side: states, agencies, proxies and officials (FollowTheMoney-compatible)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from tnrwatch.domain.codes import ActorTypeCode, CountryCode
from tnrwatch.domain.text import Line, LongText


class ActorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: UUID | None = None
    name: Line
    actor_type: ActorTypeCode
    country: CountryCode | None = Field(None, description="The state the actor serves or belongs to.")
    parent_id: UUID | None = Field(None, description="The actor this one is part of, e.g. an agency's state.")
    aliases: list[Line] = Field(default_factory=list, max_length=50)
    description: LongText = ""


class ActorOut(ActorIn):
    id: UUID  # narrowed: a stored actor always has an id
    ftm_schema: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
