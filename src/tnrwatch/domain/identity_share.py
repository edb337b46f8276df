"""Sharing one person's identity with another focal point: a separate act, never part of an alert or a bundle.

When a person's protection needs another focal point to know who they are (they moved, a threat crossed a border),
the focal point that holds the identity lets the other read it. The person must have consented to sharing
(`consent_to_share` on the person), and the grant records how consent was given and why the identity is shared,
in words that never hold the person's name. A grant may expire and may be revoked; every grant, revocation and read
is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tnrwatch.domain.text import Line


class IdentityShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    to_jurisdiction: str = Field(min_length=2, max_length=16, description="The focal point that may read it.")
    consent: Line = Field(description="How the person consented, e.g. 'in person, 2026-11-20, recorded in case 14'.")
    purpose: Line = Field(description="Why the identity is shared, e.g. 'relocation to the recipient's territory'.")
    expires_at: dt.datetime | None = Field(None, description="When the grant lapses (with a time zone).")

    @field_validator("to_jurisdiction")
    @classmethod
    def _code(cls, value: str) -> str:
        if not value.replace("-", "").isalnum():
            raise ValueError("a jurisdiction is named by its code, e.g. DE")
        return value.upper()

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-31T23:59:00Z")
        return value


class IdentityShareOut(IdentityShareIn):
    id: uuid.UUID
    person_id: uuid.UUID
    from_jurisdiction: str
    granted_by: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool
