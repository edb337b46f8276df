"""The audit log's hash chain, as pure functions: the one canonical encoding of an entry and of a seal.

Each entry's hash is the SHA-256 of its canonical form, which includes its own id and the previous entry's hash, so a
row cannot be edited, deleted, inserted or moved without breaking the chain from there on. The encoding is
sorted-key, compact JSON in UTF-8, timestamps in UTC ISO 8601 with microseconds: the same bytes from the model, from
a migration and from an exported file, on SQLite and PostgreSQL. Changing it breaks every existing chain, so it is
versioned by the seal's domain label and never edited in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

GENESIS_HASH = "0" * 64
_SEAL_LABEL = b"tnrwatch audit seal v1\n"


@dataclass(frozen=True)
class ChainEntry:
    """The fields an entry's hash covers (every column of `audit_entry` except the hash itself)."""

    id: int
    at: dt.datetime
    account_id: int | None
    username: str
    role: str
    jurisdiction: str | None
    action: str
    entity: str
    entity_uuid: uuid.UUID | None
    fields: Sequence[str]
    count: int
    note: str
    prev_hash: str

    def with_id(self, entry_id: int) -> ChainEntry:
        return replace(self, id=entry_id)


FIELDS: tuple[str, ...] = tuple(field.name for field in fields(ChainEntry))  # the audit_entry columns it covers


def canonical_time(moment: dt.datetime) -> str:
    """UTC, microseconds always written. A naive value is taken as UTC (SQLite keeps no zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_document(entry: ChainEntry) -> dict[str, Any]:
    """The entry as JSON-ready values: what an export writes and what the hash covers."""
    document = asdict(entry)
    document["at"] = canonical_time(entry.at)
    document["entity_uuid"] = None if entry.entity_uuid is None else str(entry.entity_uuid)
    document["fields"] = list(entry.fields)
    return document


def entry_hash(entry: ChainEntry) -> str:
    return hashlib.sha256(canonical_json(entry_document(entry))).hexdigest()


def entry_from_document(document: dict[str, Any]) -> ChainEntry:
    """The reverse of `entry_document` (for checking an export); raises KeyError or ValueError on a bad document."""
    entity_uuid = document["entity_uuid"]
    return ChainEntry(
        id=int(document["id"]),
        at=dt.datetime.fromisoformat(str(document["at"]).replace("Z", "+00:00")),
        account_id=None if document["account_id"] is None else int(document["account_id"]),
        username=str(document["username"]),
        role=str(document["role"]),
        jurisdiction=None if document["jurisdiction"] is None else str(document["jurisdiction"]),
        action=str(document["action"]),
        entity=str(document["entity"]),
        entity_uuid=None if entity_uuid is None else uuid.UUID(str(entity_uuid)),
        fields=[str(name) for name in document["fields"]],
        count=int(document["count"]),
        note=str(document["note"]),
        prev_hash=str(document["prev_hash"]),
    )


def seal_payload(last_id: int, last_hash: str, at: dt.datetime) -> bytes:
    """The bytes a seal signs: the chain head (last id and hash) and when it was sealed, after a domain label so that
    the signature cannot be taken for one over anything else the key might sign."""
    return _SEAL_LABEL + canonical_json({"last_id": last_id, "last_hash": last_hash, "at": canonical_time(at)})


def canonical_json(document: dict[str, Any]) -> bytes:
    """Sorted-key, compact JSON in UTF-8: the bytes a hash or a signature covers (the custody log uses it too)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
