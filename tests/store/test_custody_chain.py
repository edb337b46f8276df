"""The custody chain's check, on a chain built in memory: intact it passes; each kind of tampering (a row modified,
deleted, inserted, moved; the chain cut short or lengthened; the capture changed) is named at the right row."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from tnrwatch.store.custody_chain import (
    GENESIS_HASH,
    CustodyEntry,
    capture_detail,
    check_chain,
    entry_document,
    entry_from_document,
    entry_hash,
)

ITEM = uuid.uuid4()
CAPTURE = capture_detail(
    kind="screenshot",
    report_id=uuid.uuid4(),
    attachment_id=None,
    sha256="a" * 64,
    size=10,
    ciphertext_sha256="b" * 64,
    ciphertext_size=51,
    meta=b"sealed",
)
ACTIONS = ["received", "exported", "viewed", "transferred", "shared"]


def chain(length: int = 5) -> list[tuple[CustodyEntry, str]]:
    rows, prev = [], GENESIS_HASH
    start = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    for index in range(length):
        detail = CAPTURE if index == 0 else {"n": index, "ok": True}
        entry = CustodyEntry(
            ITEM, index + 1, start + dt.timedelta(minutes=index), 7, "olga", ACTIONS[index], detail, prev
        )
        prev = entry_hash(entry)
        rows.append((entry, prev))
    return rows


def renumbered(rows: list[tuple[CustodyEntry, str]]) -> list[tuple[CustodyEntry, str]]:
    """The rows as they would be stored with their numbers changed to 1, 2, 3 ... (content and hashes untouched)."""
    return [(entry.with_seq(index + 1), stored) for index, (entry, stored) in enumerate(rows)]


def test_an_intact_chain_passes_and_survives_its_document_form() -> None:
    rows = chain()
    assert check_chain(rows, rows[-1][1], CAPTURE) is None
    entry = rows[2][0]
    assert entry_from_document(entry_document(entry)) == entry
    assert entry_hash(entry_from_document(entry_document(entry))) == rows[2][1]


def test_a_modified_row_is_named() -> None:
    rows = chain()
    entry, stored = rows[2]
    rows[2] = (replace(entry, detail={"n": 2, "ok": False}), stored)
    problem = check_chain(rows, rows[-1][1], CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("modified", 3)
    assert "row 3 was modified" in problem.message


def test_a_modified_row_with_its_hash_recomputed_is_named_by_the_next_row() -> None:
    rows = chain()
    forged = replace(rows[1][0], username="mallory")
    rows[1] = (forged, entry_hash(forged))
    problem = check_chain(rows, rows[-1][1], CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("modified", 2)


def test_a_deleted_row_is_named() -> None:
    rows = chain()
    del rows[2]
    problem = check_chain(rows, rows[-1][1], CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("missing", 3)
    assert "row 3 missing" in problem.message


def test_a_deleted_last_row_breaks_the_head() -> None:
    rows = chain()
    head = rows[-1][1]
    problem = check_chain(rows[:-1], head, CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("truncated", 4)


def test_an_inserted_row_is_named() -> None:
    rows = chain()
    fake = CustodyEntry(ITEM, 3, rows[1][0].at, 9, "mallory", "viewed", {"sha256": "c" * 64}, rows[1][1])
    tampered = renumbered([*rows[:2], (fake, entry_hash(fake)), *rows[2:]])
    problem = check_chain(tampered, rows[-1][1], CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("inserted", 3)
    assert "row 3 was inserted" in problem.message


def test_a_row_added_after_the_head_is_named() -> None:
    rows = chain()
    extra = CustodyEntry(ITEM, 6, rows[-1][0].at, 9, "mallory", "viewed", {}, rows[-1][1])
    problem = check_chain([*rows, (extra, entry_hash(extra))], rows[-1][1], CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("inserted", 6)


def test_swapped_rows_are_named() -> None:
    rows = chain()
    tampered = renumbered([rows[0], rows[1], rows[3], rows[2], rows[4]])
    problem = check_chain(tampered, rows[-1][1], CAPTURE)
    assert problem is not None
    assert (problem.kind, problem.seq) == ("reordered", 3)
    assert "row 3 was written as row 4" in problem.message


def test_a_changed_capture_is_named() -> None:
    rows = chain()
    problem = check_chain(rows, rows[-1][1], {**CAPTURE, "sha256": "d" * 64})
    assert problem is not None
    assert problem.kind == "capture-changed"
    assert "sha256 changed" in problem.message


def test_an_empty_log_is_broken() -> None:
    problem = check_chain([], GENESIS_HASH, CAPTURE)
    assert problem is not None
    assert problem.kind == "missing"
