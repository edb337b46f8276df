"""Alerts: what a focal point or the EU level tells its recipients about transnational repression happening now.

An alert has a level (information, warning, urgent: not "severity", a name STIX validators reserve), a TLP 2.0
marking, an audience (jurisdictions, the EU level, named partner nodes), the incidents and actors it is about, an
optional expiry, and a status: a draft until a person publishes it (also one proposed from an escalation signal),
then published, then perhaps withdrawn. Recipients add corroboration notes (sightings among them) and opinions.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tnrwatch.domain.codes import CountryCode, TlpCode
from tnrwatch.domain.text import Line, LongText

ALERT_LEVELS: tuple[str, ...] = ("information", "warning", "urgent")
ALERT_STATUSES: tuple[str, ...] = ("draft", "published", "withdrawn")
# Which status may follow which: a draft is published or dropped (withdrawn unseen); a published alert is withdrawn.
ALERT_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"published", "withdrawn"}),
    "published": frozenset({"withdrawn"}),
    "withdrawn": frozenset(),
}
OPINIONS: tuple[str, ...] = ("agree", "disagree", "unsure")

AlertLevel = Literal["information", "warning", "urgent"]
AudienceKind = Literal["jurisdiction", "eu", "partner"]
CommentKind = Literal["corroboration", "opinion"]
Opinion = Literal["agree", "disagree", "unsure"]


class Audience(BaseModel):
    """One recipient: a jurisdiction's focal point (its code), the EU level (no value), or a partner node (its name)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    kind: AudienceKind
    value: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Self:
        if self.kind == "eu" and self.value:
            raise ValueError("the EU level takes no value")
        if self.kind == "jurisdiction":
            if not (2 <= len(self.value) <= 16 and self.value.replace("-", "").isalnum()):
                raise ValueError("a jurisdiction is named by its code, e.g. DE")
            object.__setattr__(self, "value", self.value.upper())
        if self.kind == "partner" and not self.value:
            raise ValueError("a partner node is named by its name")
        return self


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    title: Line
    summary: LongText = Field(min_length=1)
    level: AlertLevel
    tlp: TlpCode
    audience: list[Audience] = Field(min_length=1, max_length=100)
    incident_ids: list[UUID] = Field(default_factory=list, max_length=200)
    actor_ids: list[UUID] = Field(default_factory=list, max_length=200)
    expires_at: dt.datetime | None = Field(None, description="When the alert stops applying (with a time zone).")
    source_signal: str | None = Field(None, max_length=200, description="The escalation signal it was proposed from.")

    @field_validator("audience")
    @classmethod
    def _audience_once(cls, value: list[Audience]) -> list[Audience]:
        seen = [(item.kind, item.value) for item in value]
        if len(set(seen)) != len(seen):
            raise ValueError("each recipient once")
        return value

    @field_validator("incident_ids", "actor_ids")
    @classmethod
    def _ids_once(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("each id once")
        return value

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-31T23:59:00Z")
        return value


class CommentIn(BaseModel):
    """A recipient's corroboration note (what they know that confirms or adds to the alert) or opinion on it. A
    corroboration may also be a sighting: one of the alert's actors seen acting, and optionally the country where."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    kind: CommentKind
    opinion: Opinion | None = None
    text: LongText = Field(min_length=1)
    sighted_actor_id: UUID | None = Field(
        None, description="A sighting: which of the alert's actors the recipient saw act (corroborations only)."
    )
    sighted_country: CountryCode | None = Field(
        None, description="Where the actor was seen (ISO 3166-1 alpha-2; with sighted_actor_id only)."
    )

    @field_validator("sighted_actor_id", "sighted_country")
    @classmethod
    def _sighting_is_a_corroboration(cls, value: object, info: ValidationInfo) -> object:
        # Fields are checked in order: `kind` and `sighted_actor_id` are in `info.data` unless they were refused.
        if value is None:
            return value
        if info.data.get("kind", "corroboration") != "corroboration":
            raise ValueError("only a corroboration says what was seen (leave it out of an opinion)")
        if info.field_name == "sighted_country" and info.data.get("sighted_actor_id", True) is None:
            raise ValueError("a country seen goes with the actor seen: name the actor too")
        return value

    @model_validator(mode="after")
    def _opinion_fits_kind(self) -> Self:
        if self.kind == "opinion" and self.opinion is None:
            raise ValueError("an opinion says agree, disagree or unsure")
        if self.kind == "corroboration" and self.opinion is not None:
            raise ValueError("a corroboration note holds no opinion")
        return self


class CommentOut(CommentIn):
    author: str
    jurisdiction: str | None
    created_at: dt.datetime


class AlertOut(AlertIn):
    id: UUID
    status: str
    jurisdiction: str | None  # the owner: the focal point that wrote it, or None for the node's own (EU level)
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    comments: list[CommentOut] = Field(default_factory=list)
