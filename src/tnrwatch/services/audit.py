"""The audit log for auditors: seal it, verify it, export it, and check an export without the database.

`verify` walks the chain in id order and names the first row where it breaks, and what broke it; then it checks
every seal (its signature, its key, and that the row it signed is still there, unchanged). An export is JSON lines
(a header with the node's public key, the entries, the seals), checked by `verify_export` with the same code.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tnrwatch.crypto import audit_key
from tnrwatch.errors import ConfigurationError, InvalidInputError
from tnrwatch.services.changes import seal_head
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.audit_chain import (
    FIELDS,
    GENESIS_HASH,
    ChainEntry,
    canonical_time,
    entry_document,
    entry_from_document,
    entry_hash,
    seal_payload,
)
from tnrwatch.store.models import AuditEntry, AuditSeal

EXPORT_FORMAT = "tnrwatch-audit-export"
EXPORT_VERSION = 1
_STREAM_ROWS = 2000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the log. `row` is the entry where the chain breaks; `seal` the seal concerned, if any."""

    kind: str  # modified, missing, inserted, reordered, relinked, truncated, bad-signature, unknown-key, seal-mismatch
    row: int | None
    message: str
    seal: int | None = None


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    seals: int
    last_id: int | None
    last_hash: str | None
    problems: tuple[Problem, ...]
    public_key: bytes | None = None  # the key the seals were checked against

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class SealInfo:
    id: int
    at: dt.datetime
    last_id: int
    last_hash: str
    public_key: bytes
    signature: bytes


class AuditEntryOut(BaseModel):
    """One audit entry as the API and the CLI show it: no values, no identities, no addresses."""

    id: int
    at: dt.datetime
    account_id: int | None
    username: str
    role: str
    jurisdiction: str | None
    action: str
    entity: str
    entity_uuid: str | None
    fields: list[str]
    count: int
    note: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None = None  # pass as `before` for the next (older) page


# -- sealing and listing -----------------------------------------------------------------------------------------------


def seal(node: Node) -> SealInfo | None:
    """Sign the chain's head now; None when the log is empty."""
    with node.store.writing() as session:
        row = seal_head(session, node.audit_sealer.key)
        if row is None:
            return None
        session.flush()  # for its id
        return _seal_info(row)


def public_key(node: Node) -> bytes:
    return audit_key.public_key(node.audit_sealer.key)


@dataclass(frozen=True)
class AuditFilter:
    """Narrow the log to one account, one kind of record, one action or one record (all optional)."""

    username: str | None = None
    entity: str | None = None
    action: str | None = None
    entity_uuid: uuid.UUID | None = None


def list_entries(
    node: Node,
    principal: Principal,
    *,
    limit: int = 50,
    before: int | None = None,
    where: AuditFilter | None = None,
) -> AuditPage:
    """The newest entries first; `before` continues below an id from the previous page."""
    require(principal, "audit:read")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if where is not None:
        if where.username:
            query = query.where(AuditEntry.username == where.username)
        if where.entity:
            query = query.where(AuditEntry.entity == where.entity)
        if where.action:
            query = query.where(AuditEntry.action == where.action)
        if where.entity_uuid is not None:
            query = query.where(AuditEntry.entity_uuid == where.entity_uuid)
    with node.store.reading() as session:
        rows = session.scalars(query).all()
    items = [_entry_out(row) for row in rows]
    more = len(items) == limit and items[-1].id > 1
    return AuditPage(items=items, next_before=items[-1].id if more else None)


# -- verifying ---------------------------------------------------------------------------------------------------------


def verify(node: Node) -> VerifyResult:
    """Check the database's audit log against itself and against this node's signing key."""
    try:
        trusted: bytes | None = audit_key.public_key(
            audit_key.open_signing_key(node.settings.resolved_key_dir, create=False)
        )
    except ConfigurationError:
        trusted = None  # nothing was ever sealed here, or the key is gone: every seal found is then suspect
    with node.store.reading() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=_STREAM_ROWS))
        walk = _walk(((_chain_entry(row), row.hash) for row in rows), lambda h: _id_of_hash(session, h))
        seals = [_seal_info(row) for row in session.scalars(select(AuditSeal).order_by(AuditSeal.id))]
        seal_problems = _check_seals(
            seals, trusted, walk.last_id, lambda i: session.scalar(select(AuditEntry.hash).where(AuditEntry.id == i))
        )
    return _result(walk, seals, seal_problems, trusted)


def verify_export(path: Path, expected_public_key: bytes | None = None) -> VerifyResult:
    """Check an export without the database. The seals are checked against `expected_public_key` when given (obtained
    from the node's operator over another channel), else against the key the export's header names."""
    header, entries, seals = _read_export(path)
    trusted = expected_public_key if expected_public_key is not None else header
    by_hash = {stored: entry.id for entry, stored in entries}
    by_id = {entry.id: stored for entry, stored in entries}
    walk = _walk(entries, by_hash.get)
    seal_problems = _check_seals(seals, trusted, walk.last_id, by_id.get)
    return _result(walk, seals, seal_problems, trusted)


@dataclass
class _Walk:
    entries: int = 0
    last_id: int | None = None
    last_hash: str | None = None
    problem: Problem | None = None


def _walk(rows: Iterable[tuple[ChainEntry, str]], id_of_hash: Callable[[str], int | None]) -> _Walk:
    """Recompute the chain in id order; keep the first problem, and count on to the end."""
    walk = _Walk()
    prev_id, prev_hash = 0, GENESIS_HASH
    for entry, stored in rows:
        walk.entries += 1
        if walk.problem is None:
            walk.problem = _check_row(entry, stored, prev_id, prev_hash, id_of_hash)
        prev_id, prev_hash = entry.id, stored
    walk.last_id, walk.last_hash = (prev_id, prev_hash) if walk.entries else (None, None)
    return walk


def _check_row(
    entry: ChainEntry, stored: str, prev_id: int, prev_hash: str, id_of_hash: Callable[[str], int | None]
) -> Problem | None:
    expected = prev_id + 1
    if entry.id != expected:
        gone = f"row {expected}" if entry.id == expected + 1 else f"rows {expected} to {entry.id - 1}"
        after = f"row {prev_id}" if prev_id else "the start"
        return Problem("missing", expected, f"{gone} missing (deleted): the log jumps from {after} to row {entry.id}")
    if entry_hash(entry) != stored:
        return _moved(entry, stored, id_of_hash) or Problem(
            "modified", entry.id, f"row {entry.id} was modified: its content does not match its hash"
        )
    if entry.prev_hash != prev_hash:
        linked = id_of_hash(entry.prev_hash) if entry.prev_hash != GENESIS_HASH else 0
        if prev_id == 0:
            return Problem("relinked", entry.id, f"row {entry.id} starts the log but is chained to an earlier row")
        if linked is None:
            return Problem(
                "modified",
                prev_id,
                f"row {prev_id} was modified and its hash recomputed: "
                f"row {entry.id} was chained to another row {prev_id}",
            )
        kind = "inserted" if linked < prev_id else "reordered"
        return Problem(kind, entry.id, f"row {entry.id} is chained to row {linked}, not to row {prev_id}")
    return None


def _moved(entry: ChainEntry, stored: str, id_of_hash: Callable[[str], int | None]) -> Problem | None:
    """A row whose content is intact but whose id changed: it hashes right under the id after its predecessor's."""
    before = 0 if entry.prev_hash == GENESIS_HASH else id_of_hash(entry.prev_hash)
    if before is None or before + 1 == entry.id or entry_hash(entry.with_id(before + 1)) != stored:
        return None
    original = before + 1
    if original < entry.id:
        return Problem(
            "inserted",
            entry.id - 1,
            f"row {entry.id - 1} was inserted: row {entry.id} was written as row {original}",
        )
    return Problem("reordered", entry.id, f"the order is broken: row {entry.id} was written as row {original}")


def _check_seals(
    seals: list[SealInfo], trusted: bytes | None, last_id: int | None, hash_of_id: Callable[[int], str | None]
) -> list[Problem]:
    problems = []
    for seal_row in seals:
        problem = _check_seal(seal_row, trusted, last_id, hash_of_id)
        if problem is not None:
            problems.append(problem)
    return problems


def _check_seal(
    seal_row: SealInfo, trusted: bytes | None, last_id: int | None, hash_of_id: Callable[[int], str | None]
) -> Problem | None:
    name = f"seal {seal_row.id} (of row {seal_row.last_id}, {canonical_time(seal_row.at)})"
    payload = seal_payload(seal_row.last_id, seal_row.last_hash, seal_row.at)
    if not audit_key.is_valid(seal_row.public_key, payload, seal_row.signature):
        return Problem("bad-signature", seal_row.last_id, f"{name}: the signature is not valid", seal_row.id)
    if trusted is None or seal_row.public_key != trusted:
        return Problem("unknown-key", seal_row.last_id, f"{name}: signed by a key that is not this node's", seal_row.id)
    if last_id is None or seal_row.last_id > last_id:
        first_gone = (last_id or 0) + 1
        return Problem(
            "truncated",
            first_gone,
            f"the chain was truncated: {name} covers rows up to {seal_row.last_id}, "
            f"the log ends at row {last_id or 0} (rows from {first_gone} deleted)",
            seal_row.id,
        )
    if hash_of_id(seal_row.last_id) != seal_row.last_hash:
        return Problem(
            "seal-mismatch",
            seal_row.last_id,
            f"{name} does not match the chain: row {seal_row.last_id} was rewritten after it was sealed",
            seal_row.id,
        )
    return None


def _result(walk: _Walk, seals: list[SealInfo], seal_problems: list[Problem], trusted: bytes | None) -> VerifyResult:
    problems = ([walk.problem] if walk.problem else []) + seal_problems
    return VerifyResult(walk.entries, len(seals), walk.last_id, walk.last_hash, tuple(problems), trusted)


# -- export ------------------------------------------------------------------------------------------------------------


def export(node: Node, path: Path) -> VerifyResult:
    """Write the whole log (header, entries in id order, seals) as JSON lines to a new file (mode 0600), sealing the
    head first so that the export ends with a signature over its last row. Returns the export's own check."""
    seal(node)
    header = {
        "type": "header",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "public_key": base64.b64encode(public_key(node)).decode("ascii"),
        "fingerprint": audit_key.fingerprint(public_key(node)),
        "exported_at": canonical_time(dt.datetime.now(dt.UTC)),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle, node.store.reading() as session:
        for line in _export_lines(session, header):
            handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return verify_export(path)


def _export_lines(session: Session, header: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield header
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=_STREAM_ROWS))
    for row in rows:
        yield {"type": "entry", **entry_document(_chain_entry(row)), "hash": row.hash}
    for seal_row in session.scalars(select(AuditSeal).order_by(AuditSeal.id)):
        yield {
            "type": "seal",
            "id": seal_row.id,
            "at": canonical_time(seal_row.at),
            "last_id": seal_row.last_id,
            "last_hash": seal_row.last_hash,
            "public_key": base64.b64encode(seal_row.public_key).decode("ascii"),
            "signature": base64.b64encode(seal_row.signature).decode("ascii"),
        }


def _read_export(path: Path) -> tuple[bytes, list[tuple[ChainEntry, str]], list[SealInfo]]:
    header: bytes | None = None
    entries: list[tuple[ChainEntry, str]] = []
    seals: list[SealInfo] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                document = json.loads(line)
                kind = document.pop("type")
                if kind == "header":
                    if document.get("format") != EXPORT_FORMAT or document.get("version") != EXPORT_VERSION:
                        raise ValueError("not a tnrwatch audit export of a known version")
                    header = base64.b64decode(document["public_key"], validate=True)
                elif kind == "entry":
                    stored = str(document.pop("hash"))
                    entries.append((entry_from_document(document), stored))
                elif kind == "seal":
                    seals.append(_seal_from_document(document))
                else:
                    raise ValueError(f"unknown line type {kind!r}")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise InvalidInputError(f"{path.name}, line {number}: {_reason(exc)}") from None
    if header is None:
        raise InvalidInputError(f"{path.name}: no header line; is this an audit export?")
    return header, entries, seals


def _seal_from_document(document: dict[str, Any]) -> SealInfo:
    return SealInfo(
        id=int(document["id"]),
        at=dt.datetime.fromisoformat(str(document["at"]).replace("Z", "+00:00")),
        last_id=int(document["last_id"]),
        last_hash=str(document["last_hash"]),
        public_key=base64.b64decode(document["public_key"], validate=True),
        signature=base64.b64decode(document["signature"], validate=True),
    )


def _reason(exc: Exception) -> str:
    """What was wrong with a line, without echoing its values."""
    return f"missing field {exc}" if isinstance(exc, KeyError) else "malformed line"


# -- rows --------------------------------------------------------------------------------------------------------------


def _chain_entry(row: AuditEntry) -> ChainEntry:
    return ChainEntry(**{name: getattr(row, name) for name in FIELDS})


def _entry_out(row: AuditEntry) -> AuditEntryOut:
    document = entry_document(_chain_entry(row))
    document.pop("prev_hash")
    return AuditEntryOut(**{**document, "at": row.at, "hash": row.hash})


def _seal_info(row: AuditSeal) -> SealInfo:
    return SealInfo(row.id, row.at, row.last_id, row.last_hash, row.public_key, row.signature)


def _id_of_hash(session: Session, stored: str) -> int | None:
    return session.scalar(select(AuditEntry.id).where(AuditEntry.hash == stored))
