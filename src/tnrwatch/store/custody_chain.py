"""The custody log's hash chain, as pure functions: the canonical form of a custody event, and the check that names
the first broken link.

Each evidence item has a chain of its own: its events are numbered 1, 2, 3 ... (`seq`), and each one's hash is the
SHA-256 of a domain label and its canonical JSON (`store.audit_chain.canonical_json`: the same encoding as the audit
log's), which covers the item's id, its own number and the previous event's hash. A chain per item, so that one
item's log, exported alone, verifies alone. An event cannot then be edited, deleted, inserted or moved without
breaking the chain from there on; the item row keeps the hash of its last event (`head_hash`), so a chain cut short
at its end, or lengthened, no longer reaches it. The first event, `received`, holds what was taken at capture (the
hashes and sizes, the kind, the report, the hash of the encrypted metadata): the item row must still say the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from tnrwatch.store.audit_chain import GENESIS_HASH, canonical_json, canonical_time

__all__ = ["GENESIS_HASH", "ChainProblem", "CustodyEntry", "capture_detail", "check_chain", "entry_hash"]

_LABEL = b"tnrwatch custody v1\n"  # a custody hash can never be taken for an audit entry's


@dataclass(frozen=True)
class CustodyEntry:
    """The fields an event's hash covers (every column of `custody_event` except the hash itself)."""

    item_id: uuid.UUID
    seq: int
    at: dt.datetime
    account_id: int | None
    username: str
    action: str
    detail: Mapping[str, Any]
    prev_hash: str

    def with_seq(self, seq: int) -> CustodyEntry:
        return replace(self, seq=seq)


FIELDS: tuple[str, ...] = tuple(field.name for field in fields(CustodyEntry))


def entry_document(entry: CustodyEntry) -> dict[str, Any]:
    """The event as JSON-ready values: what an export writes and what the hash covers."""
    document = asdict(entry)
    document["item_id"] = str(entry.item_id)
    document["at"] = canonical_time(entry.at)
    document["detail"] = dict(entry.detail)
    return document


def entry_hash(entry: CustodyEntry) -> str:
    return hashlib.sha256(_LABEL + canonical_json(entry_document(entry))).hexdigest()


def entry_from_document(document: Mapping[str, Any]) -> CustodyEntry:
    """The reverse of `entry_document`; raises KeyError, TypeError or ValueError on a bad document."""
    detail = document["detail"]
    if not isinstance(detail, dict):
        raise TypeError("detail is not an object")
    return CustodyEntry(
        item_id=uuid.UUID(str(document["item_id"])),
        seq=int(document["seq"]),
        at=dt.datetime.fromisoformat(str(document["at"]).replace("Z", "+00:00")),
        account_id=None if document["account_id"] is None else int(document["account_id"]),
        username=str(document["username"]),
        action=str(document["action"]),
        detail=detail,
        prev_hash=str(document["prev_hash"]),
    )


def capture_detail(
    *,
    kind: str,
    report_id: uuid.UUID,
    attachment_id: uuid.UUID | None,
    sha256: str,
    size: int,
    ciphertext_sha256: str,
    ciphertext_size: int,
    meta: bytes,
) -> dict[str, Any]:
    """What the `received` event records of an item, and what the item row must still say later."""
    return {
        "kind": kind,
        "report_id": str(report_id),
        "attachment_id": None if attachment_id is None else str(attachment_id),
        "sha256": sha256,
        "size": size,
        "ciphertext_sha256": ciphertext_sha256,
        "ciphertext_size": ciphertext_size,
        "meta_sha256": hashlib.sha256(meta).hexdigest(),
    }


@dataclass(frozen=True)
class ChainProblem:
    """The first thing wrong with an item's custody log. `seq` is the row where the chain breaks, if it is a row."""

    kind: str  # missing, modified, inserted, reordered, relinked, truncated, capture-changed
    seq: int | None
    message: str


def check_chain(
    rows: Sequence[tuple[CustodyEntry, str]], head_hash: str, capture: Mapping[str, Any]
) -> ChainProblem | None:
    """Recompute one item's chain (`rows`: each event and its stored hash, in `seq` order) against the head the item
    recorded and what it took at capture; None when all holds, else the first broken link."""
    if not rows:
        return ChainProblem("missing", 1, "the custody log is empty: row 1 (received) is missing")
    by_hash = {stored: entry.seq for entry, stored in rows}
    highest = max(len(rows), max(entry.seq for entry, _ in rows)) + 1
    prev_seq, prev_hash = 0, GENESIS_HASH
    for entry, stored in rows:
        problem = _check_row(entry, stored, prev_seq, prev_hash, by_hash, highest)
        if problem is not None:
            return problem
        prev_seq, prev_hash = entry.seq, stored
    if head_hash != prev_hash:
        last_kept = by_hash.get(head_hash)
        if last_kept is not None:
            return ChainProblem(
                "inserted",
                last_kept + 1,
                f"row {last_kept + 1} was added after row {last_kept}, the last row the item recorded",
            )
        return ChainProblem(
            "truncated",
            prev_seq,
            f"the log ends at row {prev_seq}, but the item recorded another last row: "
            f"rows after row {prev_seq} were deleted, or row {prev_seq} was modified and its hash recomputed",
        )
    first = rows[0][0]
    if first.action != "received":
        return ChainProblem("modified", first.seq, f"row 1 is {first.action!r}, not the capture ('received')")
    changed = sorted(name for name in set(first.detail) | set(capture) if first.detail.get(name) != capture.get(name))
    if changed:
        return ChainProblem(
            "capture-changed",
            None,
            f"the item no longer matches what was taken at capture (row 1): {', '.join(changed)} changed",
        )
    return None


def _check_row(
    entry: CustodyEntry, stored: str, prev_seq: int, prev_hash: str, by_hash: Mapping[str, int], highest: int
) -> ChainProblem | None:
    expected = prev_seq + 1
    if entry.seq < expected:
        return ChainProblem("reordered", entry.seq, f"row {entry.seq} appears again after row {prev_seq}")
    if entry.seq > expected:
        gone = f"row {expected}" if entry.seq == expected + 1 else f"rows {expected} to {entry.seq - 1}"
        after = f"row {prev_seq}" if prev_seq else "the start"
        return ChainProblem(
            "missing", expected, f"{gone} missing (deleted): the log jumps from {after} to row {entry.seq}"
        )
    if entry_hash(entry) != stored:
        written = _written_as(entry, stored, highest)
        if written is not None and written > entry.seq:
            return ChainProblem(
                "reordered", entry.seq, f"the order is broken: row {entry.seq} was written as row {written}"
            )
        if written is not None:
            inserted = f"row {written} was" if written == entry.seq - 1 else f"rows {written} to {entry.seq - 1} were"
            return ChainProblem(
                "inserted", written, f"{inserted} inserted: row {entry.seq} was written as row {written}"
            )
        return ChainProblem("modified", entry.seq, f"row {entry.seq} was modified: its content does not match its hash")
    if entry.prev_hash != prev_hash:
        if prev_seq == 0:
            return ChainProblem("relinked", entry.seq, f"row {entry.seq} starts the log but is chained to another row")
        linked = 0 if entry.prev_hash == GENESIS_HASH else by_hash.get(entry.prev_hash)
        if linked is None:
            return ChainProblem(
                "modified",
                prev_seq,
                f"row {prev_seq} was modified and its hash recomputed: row {entry.seq} was chained to another row",
            )
        if linked < prev_seq:
            return ChainProblem(
                "inserted", prev_seq, f"row {prev_seq} was inserted: row {entry.seq} is chained to row {linked}"
            )
        return ChainProblem(
            "reordered", entry.seq, f"row {entry.seq} is chained to row {linked}, not to row {prev_seq}"
        )
    return None


def _written_as(entry: CustodyEntry, stored: str, highest: int) -> int | None:
    """The number a row with intact content was written under, when only its number changed (it was moved)."""
    for seq in range(1, highest + 1):
        if seq != entry.seq and entry_hash(entry.with_seq(seq)) == stored:
            return seq
    return None
