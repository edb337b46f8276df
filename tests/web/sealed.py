"""A report sealed as the browser seals it (docs/report-format.md), for tests of the intake."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tnrwatch.crypto import envelope, pow, receipts


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def solved_proof(token: str) -> dict[str, Any]:
    return {"token": token, "counter": pow.solve(token)}


def sealed_report(keys: list[tuple[str, bytes]], proof: dict[str, Any], jurisdiction: str = "DE") -> dict[str, Any]:
    """The JSON body of POST /report/api/reports for the recipient `keys` (id, public key) and a solved `proof`."""
    report_id = uuid.uuid4()
    report_key = envelope.new_key()
    _, secret = receipts.new_receipt()
    reporter_public, _ = receipts.reporter_key_pair(secret)
    return {
        "report_id": str(report_id),
        "jurisdiction": jurisdiction,
        "urgent": False,
        "lookup": b64(receipts.lookup_token(secret)),
        "answers": b64(envelope.encrypt_document({"v": 1}, report_key, envelope.answers_context(report_id))),
        "keys": [
            {"recipient": key_id, "sealed": b64(envelope.seal_report_key(report_key, public, report_id, key_id))}
            for key_id, public in keys
        ],
        "reporter_key": b64(envelope.seal_report_key(report_key, reporter_public, report_id, envelope.REPORTER)),
        "attachments": [],
        "pow": proof,
    }
