"""What the reporter's browser sends: the JSON bodies of the intake and follow-up APIs, strict (unknown fields
refused), binary fields as standard base64."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tnrwatch.services.reports import MAX_DOCUMENT_BYTES, ProofOfWork, SealedKey, Submission


def _b64(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) > 2 * MAX_DOCUMENT_BYTES:
        raise ValueError("expected base64 text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None


B64 = Annotated[bytes, BeforeValidator(_b64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PowIn(Strict):
    token: str = Field(max_length=100)
    counter: int = Field(ge=0, lt=2**53)

    def proof(self) -> ProofOfWork:
        return ProofOfWork(self.token, self.counter)


class SealedKeyIn(Strict):
    recipient: uuid.UUID
    sealed: B64


class ReportIn(Strict):
    report_id: uuid.UUID
    jurisdiction: str = Field(max_length=16)
    urgent: bool = False
    lookup: B64
    answers: B64
    keys: list[SealedKeyIn] = Field(max_length=100)
    reporter_key: B64
    attachments: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    pow: PowIn

    def submission(self) -> Submission:
        return Submission(
            report_id=self.report_id,
            jurisdiction=self.jurisdiction,
            urgent=self.urgent,
            lookup=self.lookup,
            answers=self.answers,
            keys=[SealedKey(key.recipient, key.sealed) for key in self.keys],
            reporter_key=self.reporter_key,
            attachments=self.attachments,
            pow=self.pow.proof(),
        )


class UploadIn(Strict):
    report_id: uuid.UUID
    attachment_id: uuid.UUID
    size: int = Field(ge=1)
    pow: PowIn
