"""Evidence and its chain of custody: files kept for a report, the SHA-256 taken at capture, and a hash-chained log of
everything that happened to each of them.

End-to-end encryption holds: the server never sees an evidence file's plaintext. An item is either one of the
report's attachments, which the officer's browser decrypted and hashed, or a document, screenshot or web-page capture
that staff encrypted in their browser with the report key and uploaded. The browser sends the plaintext's SHA-256 and
size; the server hashes the ciphertext it holds itself. The label, file name and type, and a captured page's address
and capture time, travel encrypted (`meta`). The server never fetches a URL: a capture is made by staff, in their
browser, and only the file they made arrives here.

Custody events (received, decrypted, viewed, exported, shared, transferred) are appended to the item's chain
(`store.custody_chain`), and each also to the audit log. `verify` recomputes every ciphertext file's SHA-256 and
every chain, and names the first broken link; `export_log` writes one item's log as JSON that `verify_export`
checks without the database.

Officers and supervisors add evidence and record transfers for their own jurisdiction's cases; those who may read a
report (its own focal point, or one it was referred to) view its evidence. A report of another jurisdiction gets the
same answer as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tnrwatch.crypto import envelope
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_access, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed, require
from tnrwatch.services.reports import held_report, visible_report
from tnrwatch.settings import Settings
from tnrwatch.store.custody_chain import (
    GENESIS_HASH,
    CustodyEntry,
    capture_detail,
    check_chain,
    entry_document,
    entry_from_document,
    entry_hash,
)
from tnrwatch.store.models import Attachment, AuditEntry, CustodyEvent, EvidenceItem, Report
from tnrwatch.store.types import utcnow

KINDS: tuple[str, ...] = ("attachment", "document", "screenshot", "url_capture")
UPLOAD_KINDS: tuple[str, ...] = KINDS[1:]  # what staff add themselves
ACTIONS: tuple[str, ...] = ("received", "decrypted", "viewed", "exported", "shared", "transferred")
MAX_RECIPIENT_CHARS = 200
MAX_META_BYTES = 16 * 1024  # label, name, type, address: padded to 1 KiB blocks, then encrypted
EXPORT_FORMAT = "tnrwatch-custody-export"
EXPORT_VERSION = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_READ_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class CustodyOut:
    seq: int
    at: dt.datetime
    username: str
    action: str
    detail: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class EvidenceOut:
    id: uuid.UUID
    report_id: uuid.UUID
    kind: str
    attachment_id: uuid.UUID | None
    sha256: str  # of the plaintext, taken in the browser at capture
    size: int
    ciphertext_sha256: str  # of the file the server holds, computed by the server at capture
    ciphertext_size: int
    meta: bytes  # encrypted with the report key: label, file name and type, a capture's address and time
    captured_at: dt.datetime
    events: tuple[CustodyOut, ...]
    problem: str | None  # the first broken link of its custody log (the file is not hashed for a listing)


@dataclass(frozen=True)
class EvidenceList:
    items: tuple[EvidenceOut, ...]
    can_add: bool  # the principal works this case (its own jurisdiction's, with case:work)


@dataclass(frozen=True)
class Problem:
    """One thing wrong: `kind` is a chain problem (store.custody_chain) or file-missing, file-changed, item-missing."""

    item_id: uuid.UUID
    kind: str
    seq: int | None
    message: str


@dataclass(frozen=True)
class VerifyResult:
    items: int
    events: int
    files_checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


# -- adding evidence ---------------------------------------------------------------------------------------------------


def evidence_path(settings: Settings, item_id: uuid.UUID) -> Path:
    return settings.resolved_evidence_dir / str(item_id)


def part_path(settings: Settings) -> Path:
    """A new file name for an upload to land in before its item is recorded (the folder is made if need be)."""
    folder = settings.resolved_evidence_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{uuid.uuid4()}.part"


def check_can_add(node: Node, principal: Principal, report_id: uuid.UUID) -> None:
    """Refuse early (before a file is received) whoever could not add evidence to this report."""
    require(principal, "case:work")
    with node.store.reading() as session:
        held_report(session, principal, report_id)


def register_attachment(
    node: Node,
    principal: Principal,
    report_id: uuid.UUID,
    *,
    item_id: uuid.UUID,
    attachment_id: uuid.UUID,
    sha256: str,
    size: int,
    meta: bytes,
) -> EvidenceOut:
    """Keep one of the report's attachments as evidence. The officer's browser decrypted it and computed `sha256` and
    `size` of the plaintext; the server hashes the ciphertext file it holds. Records `received` and `decrypted`."""
    require(principal, "case:work")
    _check_capture(sha256, size, meta)
    with node.store.reading() as session:
        report = held_report(session, principal, report_id)
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.report_id != report.id:
            raise NotFoundError("no such attachment in this report")
    path = node.settings.resolved_attachment_dir / str(attachment_id)
    ciphertext_sha256, ciphertext_size = _hash_or_conflict(path)
    _check_sizes(size, ciphertext_size)
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        taken = session.scalar(select(EvidenceItem.id).where(EvidenceItem.attachment_id == attachment_id))
        if taken is not None:
            raise ConflictError(f"this file is already kept as evidence (item {taken})")
        capture = _Capture("attachment", attachment_id, sha256, size, meta, ciphertext_sha256, ciphertext_size)
        item = _new_item(session, principal, report, item_id, capture)
        _append(session, principal, item, "decrypted", {"sha256": sha256}, after=1)
        return _out(item, _chain_rows(session, item.id))


def add_upload(
    node: Node,
    principal: Principal,
    report_id: uuid.UUID,
    *,
    item_id: uuid.UUID,
    kind: str,
    sha256: str,
    size: int,
    meta: bytes,
    part: Path,
) -> EvidenceOut:
    """Keep a file staff encrypted in their browser with the report key (`part`: its ciphertext as received, moved
    into the evidence folder on success, deleted on refusal). Records `received`."""
    try:
        require(principal, "case:work")
        if kind not in UPLOAD_KINDS:
            raise InvalidInputError(
                f"unknown kind of evidence {kind!r}", [FieldError(("kind",), f"one of {', '.join(UPLOAD_KINDS)}")]
            )
        _check_capture(sha256, size, meta)
        ciphertext_sha256, ciphertext_size = _hash_or_conflict(part)
        _check_sizes(size, ciphertext_size)
        with node.store.writing() as session:
            report = held_report(session, principal, report_id)
            if session.get(EvidenceItem, item_id) is not None:
                raise ConflictError("an evidence item with this id exists already")
            capture = _Capture(kind, None, sha256, size, meta, ciphertext_sha256, ciphertext_size)
            item = _new_item(session, principal, report, item_id, capture)
            rows = _chain_rows(session, item.id)
            part.replace(evidence_path(node.settings, item_id))  # last: a refused commit leaves an orphan, not a hole
            return _out(item, rows)
    finally:
        part.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Capture:
    kind: str
    attachment_id: uuid.UUID | None
    sha256: str
    size: int
    meta: bytes
    ciphertext_sha256: str
    ciphertext_size: int


def _new_item(
    session: Session, principal: Principal, report: Report, item_id: uuid.UUID, capture: _Capture
) -> EvidenceItem:
    if session.get(EvidenceItem, item_id) is not None:
        raise ConflictError("an evidence item with this id exists already")
    item = EvidenceItem(
        id=item_id,
        report_id=report.id,
        kind=capture.kind,
        attachment_id=capture.attachment_id,
        sha256=capture.sha256,
        size=capture.size,
        ciphertext_sha256=capture.ciphertext_sha256,
        ciphertext_size=capture.ciphertext_size,
        meta=capture.meta,
        captured_at=utcnow(),
        account_id=principal.account_id,
        head_hash=GENESIS_HASH,
    )
    session.add(item)
    session.flush()
    record_change(
        session, principal, "create", "evidence", item.id, ["kind", "sha256", "size"], note=f"report {report.id}"
    )
    _append(session, principal, item, "received", _capture_of(item), after=0)
    return item


# -- reading it --------------------------------------------------------------------------------------------------------


def list_items(node: Node, principal: Principal, report_id: uuid.UUID) -> EvidenceList:
    """A report's evidence with each item's custody log, oldest first, and whether each log still holds."""
    require(principal, "report:read")
    with node.store.writing() as session:
        report = visible_report(session, principal, report_id)
        items = session.scalars(
            select(EvidenceItem).where(EvidenceItem.report_id == report.id).order_by(EvidenceItem.captured_at)
        ).all()
        listed = tuple(_out(item, _chain_rows(session, item.id)) for item in items)
        record_access(session, principal, "read", "evidence", report.id, note=f"list of {len(listed)} items")
        owner = report.jurisdiction_code == principal.jurisdiction
    return EvidenceList(listed, owner and allowed(principal, "case:work"))


def open_file(node: Node, principal: Principal, report_id: uuid.UUID, item_id: uuid.UUID) -> Path:
    """The item's ciphertext file, for the reader's browser to decrypt. The server hashes it first and records the
    hand-over (`exported`, with whether the file still matches) in the custody log and the read in the audit log."""
    require(principal, "report:read")
    with node.store.reading() as session:
        item = _visible_item(session, principal, report_id, item_id)
        path = _file_of(node.settings, item)
    ciphertext_sha256, _ = _hash_or_conflict(path)
    with node.store.writing() as session:
        item = _visible_item(session, principal, report_id, item_id, lock=True)
        match = ciphertext_sha256 == item.ciphertext_sha256
        _append(session, principal, item, "exported", {"ciphertext_sha256": ciphertext_sha256, "match": match})
        record_access(session, principal, "read", "evidence", item.id, note=f"report {item.report_id}")
    return path


def record_viewed(
    node: Node, principal: Principal, report_id: uuid.UUID, item_id: uuid.UUID, sha256: str
) -> CustodyOut:
    """The reader's browser decrypted the item and computed `sha256` of the plaintext: record it, and whether it is
    the one taken at capture."""
    require(principal, "report:read")
    if not _SHA256.match(sha256):
        raise InvalidInputError("malformed hash", [FieldError(("sha256",), "64 lower-case hexadecimal digits")])
    with node.store.writing() as session:
        item = _visible_item(session, principal, report_id, item_id, lock=True)
        return _append(session, principal, item, "viewed", {"sha256": sha256, "match": sha256 == item.sha256})


def transfer(node: Node, principal: Principal, report_id: uuid.UUID, item_id: uuid.UUID, recipient: str) -> CustodyOut:
    """Record that custody of the item was handed to `recipient` (an authority and its reference, in a few words)."""
    require(principal, "case:work")
    recipient = " ".join(recipient.split())
    if not recipient or len(recipient) > MAX_RECIPIENT_CHARS or _CONTROL.search(recipient):
        raise InvalidInputError(
            "name who received the evidence",
            [FieldError(("recipient",), f"1 to {MAX_RECIPIENT_CHARS} characters, e.g. an authority and its reference")],
        )
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        item = _item_of(session, report, item_id, lock=True)
        return _append(session, principal, item, "transferred", {"recipient": recipient})


def record_shared(session: Session, principal: Principal, report_id: uuid.UUID, to_jurisdiction: str) -> int:
    """In the caller's write transaction (a referral to another focal point): append `shared` to each item of the
    report, since that focal point's officers can now read them. Returns how many items."""
    items = session.scalars(
        select(EvidenceItem).where(EvidenceItem.report_id == report_id).order_by(EvidenceItem.id).with_for_update()
    ).all()
    for item in items:
        _append(session, principal, item, "shared", {"to_jurisdiction": to_jurisdiction})
    return len(items)


# -- verifying and exporting -------------------------------------------------------------------------------------------


def verify(node: Node, principal: Principal, item_id: uuid.UUID | None = None) -> VerifyResult:
    """Recompute each item's ciphertext file hash and custody chain (one item, or all, in which case the items the
    audit log saw created must all still exist)."""
    require(principal, "evidence:verify")
    problems: list[Problem] = []
    items = events = files = 0
    with node.store.reading() as session:
        query = select(EvidenceItem).order_by(EvidenceItem.captured_at, EvidenceItem.id)
        if item_id is not None:
            query = query.where(EvidenceItem.id == item_id)
        found = session.scalars(query).all()
        if item_id is not None and not found:
            raise NotFoundError(f"no evidence item {item_id}")
        for item in found:
            items += 1
            rows = _chain_rows(session, item.id)
            events += len(rows)
            chained = check_chain(rows, item.head_hash, _capture_of(item))
            if chained is not None:
                problems.append(Problem(item.id, chained.kind, chained.seq, f"item {item.id}: {chained.message}"))
            file_problem = _check_file(node.settings, item)
            files += 1
            if file_problem is not None:
                problems.append(file_problem)
        if item_id is None:
            problems += _missing_items(session, {item.id for item in found})
    return VerifyResult(items, events, files, tuple(problems))


def export_log(node: Node, principal: Principal, item_id: uuid.UUID, path: Path) -> int:
    """Write one item's custody log (and what was taken at capture) to a new file; the number of events written."""
    require(principal, "evidence:verify")
    with node.store.writing() as session:
        item = session.get(EvidenceItem, item_id)
        if item is None:
            raise NotFoundError(f"no evidence item {item_id}")
        rows = _chain_rows(session, item.id)
        record_access(session, principal, "export", "evidence", item.id, note="custody log")
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "item": {
                "id": str(item.id),
                "captured_at": item.captured_at.isoformat(),
                "head_hash": item.head_hash,
                "capture": _capture_of(item),
            },
            "events": [{**entry_document(entry), "hash": stored} for entry, stored in rows],
        }
    try:
        with path.open("x", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, indent=1, sort_keys=True)
            out.write("\n")
    except FileExistsError:
        raise InvalidInputError(f"{path} exists already", [FieldError(("out",), "name a new file")]) from None
    return len(rows)


def verify_export(path: Path) -> VerifyResult:
    """Check an exported custody log without the database (the file it speaks of is not checked: it is not there)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != EXPORT_FORMAT or document.get("version") != EXPORT_VERSION:
            raise ValueError("not a tnrwatch custody export (version 1)")
        item_id = uuid.UUID(str(document["item"]["id"]))
        head_hash = str(document["item"]["head_hash"])
        capture = dict(document["item"]["capture"])
        rows = [(entry_from_document(event), str(event["hash"])) for event in document["events"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"{path} cannot be read as a custody export: {exc}", []) from None
    problems = []
    strangers = sorted({str(entry.item_id) for entry, _ in rows} - {str(item_id)})
    if strangers:
        problems.append(Problem(item_id, "modified", None, f"item {item_id}: rows of another item ({strangers[0]})"))
    chained = check_chain(sorted(rows, key=lambda row: row[0].seq), head_hash, capture)
    if chained is not None:
        problems.append(Problem(item_id, chained.kind, chained.seq, f"item {item_id}: {chained.message}"))
    return VerifyResult(1, len(rows), 0, tuple(problems))


# -- helpers -----------------------------------------------------------------------------------------------------------


def _append(
    session: Session,
    principal: Principal,
    item: EvidenceItem,
    action: str,
    detail: Mapping[str, Any],
    *,
    after: int | None = None,
) -> CustodyOut:
    """Add an event after the item's last (`after`: its number when the caller knows it, else read from the store)."""
    if after is None:
        last = session.execute(
            select(CustodyEvent.seq, CustodyEvent.hash)
            .where(CustodyEvent.item_id == item.id)
            .order_by(CustodyEvent.seq.desc())
            .limit(1)
        ).first()
        after, prev_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    else:
        prev_hash = item.head_hash
    entry = CustodyEntry(
        item_id=item.id,
        seq=after + 1,
        at=utcnow(),
        account_id=principal.account_id,
        username=principal.username,
        action=action,
        detail=dict(detail),
        prev_hash=prev_hash,
    )
    digest = entry_hash(entry)
    session.add(
        CustodyEvent(
            item_id=entry.item_id,
            seq=entry.seq,
            at=entry.at,
            account_id=entry.account_id,
            username=entry.username,
            action=entry.action,
            detail=dict(entry.detail),
            prev_hash=entry.prev_hash,
            hash=digest,
        )
    )
    item.head_hash = digest
    session.flush()
    if action != "received":  # the item's creation is in the audit log already
        record_change(session, principal, "update", "evidence", item.id, ["custody"], note=f"{entry.seq} {action}")
    return CustodyOut(entry.seq, entry.at, entry.username, action, dict(entry.detail), digest)


def _chain_rows(session: Session, item_id: uuid.UUID) -> list[tuple[CustodyEntry, str]]:
    rows = session.scalars(select(CustodyEvent).where(CustodyEvent.item_id == item_id).order_by(CustodyEvent.seq))
    return [
        (
            CustodyEntry(
                row.item_id, row.seq, row.at, row.account_id, row.username, row.action, dict(row.detail), row.prev_hash
            ),
            row.hash,
        )
        for row in rows
    ]


def _capture_of(item: EvidenceItem) -> dict[str, Any]:
    return capture_detail(
        kind=item.kind,
        report_id=item.report_id,
        attachment_id=item.attachment_id,
        sha256=item.sha256,
        size=item.size,
        ciphertext_sha256=item.ciphertext_sha256,
        ciphertext_size=item.ciphertext_size,
        meta=item.meta,
    )


def _out(item: EvidenceItem, rows: list[tuple[CustodyEntry, str]]) -> EvidenceOut:
    chained = check_chain(rows, item.head_hash, _capture_of(item))
    events = tuple(CustodyOut(e.seq, e.at, e.username, e.action, dict(e.detail), stored) for e, stored in rows)
    return EvidenceOut(
        item.id,
        item.report_id,
        item.kind,
        item.attachment_id,
        item.sha256,
        item.size,
        item.ciphertext_sha256,
        item.ciphertext_size,
        item.meta,
        item.captured_at,
        events,
        None if chained is None else chained.message,
    )


def _file_of(settings: Settings, item: EvidenceItem) -> Path:
    if item.attachment_id is not None:
        return settings.resolved_attachment_dir / str(item.attachment_id)
    return evidence_path(settings, item.id)


def _check_file(settings: Settings, item: EvidenceItem) -> Problem | None:
    path = _file_of(settings, item)
    try:
        digest, size = _hash_file(path)
    except FileNotFoundError:
        return Problem(item.id, "file-missing", None, f"item {item.id}: its file is missing ({path.name})")
    if digest != item.ciphertext_sha256 or size != item.ciphertext_size:
        return Problem(
            item.id,
            "file-changed",
            None,
            f"item {item.id}: its file was changed: SHA-256 {digest[:16]}... ({size} bytes), "
            f"captured as {item.ciphertext_sha256[:16]}... ({item.ciphertext_size} bytes)",
        )
    return None


def _missing_items(session: Session, present: set[uuid.UUID]) -> list[Problem]:
    """Items whose creation the audit log recorded, and neither they nor their report were deleted since."""
    created = session.execute(
        select(AuditEntry.entity_uuid, AuditEntry.note).where(
            AuditEntry.entity == "evidence", AuditEntry.action == "create"
        )
    ).all()
    deleted = set(
        session.scalars(
            select(AuditEntry.entity_uuid).where(
                AuditEntry.entity.in_(("evidence", "report")), AuditEntry.action == "delete"
            )
        )
    )
    problems = []
    for entity_uuid, note in created:
        report = _report_in(note)
        if entity_uuid is None or entity_uuid in present or entity_uuid in deleted or report in deleted:
            continue
        problems.append(
            Problem(entity_uuid, "item-missing", None, f"item {entity_uuid} is missing: the audit log saw it created")
        )
    return problems


def _report_in(note: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(note.removeprefix("report ").strip())
    except ValueError:
        return None


def _check_capture(sha256: str, size: int, meta: bytes) -> None:
    errors = []
    if not _SHA256.match(sha256):
        errors.append(FieldError(("sha256",), "64 lower-case hexadecimal digits"))
    if size < 0:
        errors.append(FieldError(("size",), "0 or more bytes"))
    if not envelope.NONCE_BYTES + envelope.AEAD_ABYTES < len(meta) <= MAX_META_BYTES:
        errors.append(FieldError(("meta",), f"the encrypted description, at most {MAX_META_BYTES} bytes"))
    if errors:
        raise InvalidInputError("the evidence's description is malformed", errors)


def _check_sizes(size: int, ciphertext_size: int) -> None:
    expected = envelope.encrypted_size(size)
    if expected != ciphertext_size:
        raise InvalidInputError(
            "the size does not match the file",
            [FieldError(("size",), f"{size} bytes encrypted make {expected}; the file received has {ciphertext_size}")],
        )


def _hash_or_conflict(path: Path) -> tuple[str, int]:
    try:
        return _hash_file(path)
    except FileNotFoundError:
        raise ConflictError("the server does not hold this file (any more)") from None


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while block := source.read(_READ_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _visible_item(
    session: Session, principal: Principal, report_id: uuid.UUID, item_id: uuid.UUID, *, lock: bool = False
) -> EvidenceItem:
    return _item_of(session, visible_report(session, principal, report_id), item_id, lock=lock)


def _item_of(session: Session, report: Report, item_id: uuid.UUID, *, lock: bool = False) -> EvidenceItem:
    item = session.get(EvidenceItem, item_id, with_for_update=lock)
    if item is None or item.report_id != report.id:
        raise NotFoundError("no such evidence item in this report")
    return item
