"""The protected-persons registry: people the node knows to be at risk from a state (human rights defenders,
journalists, recognised refugees and asylum seekers, targets of coded incidents), against whom notices are screened.

Each entry's identity (names in every script, date of birth with its precision, nationalities, sex, note) is sealed
in the vault, bound to the entry's uuid; the category, the origin state and the focal point to contact stay in the
clear, so that lists and counts are pseudonymous and a screening answer can say "contact focal point X" without
opening anything. Screening needs the names: `open_registry` opens the entries into memory for the matcher, and is
for services that check their caller's permission and record the access (nothing opened is written back or logged).
Keyed blind indexes of blocking keys for partner queries are built elsewhere, from `open_registry`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tnrwatch.crypto.vault import Sealed
from tnrwatch.domain.notice import ProtectedIdentity, ProtectedPersonIn, ProtectedPersonOut
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.readers import Row
from tnrwatch.interop.record_files import read_records, split_cell
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Jurisdiction, ProtectedPerson
from tnrwatch.store.types import utcnow

MAX_LISTED_ERRORS = 1000
INSERT_BATCH = 2000
_PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32, as persons' pseudonyms
_CSV_LIST_COLUMNS = ("other_names", "nationalities")


def associated_data(entry_uuid: uuid.UUID) -> bytes:
    return b"tnrwatch protected person " + entry_uuid.bytes


def new_pseudonym() -> str:
    return "R-" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class RegistryImportResult:
    file: str
    format: str
    rows: int
    imported: int


@dataclass(frozen=True)
class RegistryEntry:
    """An entry opened for screening: the clear fields and the identity. Lives in memory only."""

    id: uuid.UUID
    pseudonym: str
    category: str
    origin_state: str | None
    focal_point: str | None
    identity: ProtectedIdentity


def import_registry(
    node: Node,
    principal: Principal,
    path: Path,
    *,
    format: str | None = None,
    synthetic: bool = False,
    label: str | None = None,
) -> RegistryImportResult:
    """Import registry entries from JSON (a list, or {"registry": [...]}) or CSV (one entry per row, `other_names`
    and `nationalities` separated by ";"). Identities go to the vault. Every bad record is reported (row and field),
    and then nothing is imported."""
    require(principal, "registry:write")
    label = label or str(path)
    fmt, rows = read_records(path, format, label, "registry")
    checked = [(row, _check(node, row, fmt, synthetic)) for row in rows]
    with node.store.writing() as session:
        focal_points = set(session.scalars(select(Jurisdiction.code)))
        given_ids = [entry.id for _, entry in checked if isinstance(entry, ProtectedPersonIn) and entry.id]
        existing = _existing_uuids(session, given_ids)
        errors: list[FieldError] = []
        seen: set[uuid.UUID] = set()
        valid: list[ProtectedPersonIn] = []
        for row, result in checked:
            if isinstance(result, list):
                problems = result + _focal_point_problems(row.cells.get("focal_point"), focal_points, result)
            else:
                problems = _problems(result, focal_points, existing, seen)
            if problems:
                errors += [FieldError((label, row.number, *error.loc), error.msg) for error in problems]
            elif isinstance(result, ProtectedPersonIn):
                valid.append(result)
        if errors:
            bad = len({error.loc[1] for error in errors})
            raise InvalidInputError(
                f"{label}: {bad} of {len(rows)} records are invalid; nothing was imported",
                sorted(errors, key=lambda error: (error.loc[1], error.where()))[:MAX_LISTED_ERRORS],
            )
        _insert(session, node, valid)
        record_change(session, principal, "import", "protected_person", count=len(valid), note=path.name[:300])
    return RegistryImportResult(file=label, format=fmt, rows=len(rows), imported=len(valid))


def add_entry(node: Node, principal: Principal, raw: Mapping[str, Any] | ProtectedPersonIn) -> ProtectedPersonOut:
    """Add one registry entry (a form, a test)."""
    require(principal, "registry:write")
    result = raw if isinstance(raw, ProtectedPersonIn) else try_validate(ProtectedPersonIn, raw, node.taxonomy)
    if isinstance(result, list):
        raise InvalidInputError(f"the registry entry is invalid ({len(result)} problems)", result)
    with node.store.writing() as session:
        focal_points = set(session.scalars(select(Jurisdiction.code)))
        problems = _problems(result, focal_points, _existing_uuids(session, [result.id] if result.id else []), set())
        if problems:
            raise InvalidInputError(f"the registry entry is invalid ({len(problems)} problems)", problems)
        (entry_uuid,) = _insert(session, node, [result])
        record_change(session, principal, "create", "protected_person", entry_uuid, result.model_fields_set)
        row = session.scalars(select(ProtectedPerson).where(ProtectedPerson.uuid == entry_uuid)).one()
        return _out(row)


def _check(node: Node, row: Row, fmt: str, synthetic: bool) -> ProtectedPersonIn | list[FieldError]:
    if row.problem is not None:
        return [FieldError((), row.problem)]
    raw: dict[str, Any] = dict(row.cells)
    if fmt == "csv":
        for column in _CSV_LIST_COLUMNS:
            if column in raw:
                raw[column] = split_cell(str(raw[column]))
    if synthetic:
        raw["synthetic"] = True
    return try_validate(ProtectedPersonIn, raw, node.taxonomy)


def _problems(
    entry: ProtectedPersonIn, focal_points: set[str], existing: set[uuid.UUID], seen: set[uuid.UUID]
) -> list[FieldError]:
    problems = _focal_point_problems(entry.focal_point, focal_points, [])
    if entry.id is not None:
        if entry.id in seen:
            problems.append(FieldError(("id",), f"the id {entry.id} appears earlier in the file"))
        elif entry.id in existing:
            problems.append(FieldError(("id",), f"a registry entry with id {entry.id} already exists"))
        seen.add(entry.id)
    return problems


def _focal_point_problems(value: Any, focal_points: set[str], reported: list[FieldError]) -> list[FieldError]:
    """The focal point of a record that failed validation for other reasons, checked all the same: every problem of
    a row is reported at once."""
    if not isinstance(value, str) or not value.strip() or any(error.loc[:1] == ("focal_point",) for error in reported):
        return []
    if value.strip() in focal_points:
        return []
    known = ", ".join(sorted(focal_points))
    return [FieldError(("focal_point",), f"{value.strip()!r} is not a jurisdiction here ({known})")]


def _existing_uuids(session: Session, given: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(given), 500):
        chunk = given[start : start + 500]
        found.update(session.scalars(select(ProtectedPerson.uuid).where(ProtectedPerson.uuid.in_(chunk))))
    return found


def _insert(session: Session, node: Node, entries: list[ProtectedPersonIn]) -> list[uuid.UUID]:
    """Seal and insert, in batches of plain INSERTs. Pseudonyms are drawn from 32^8 values and checked within the
    batch; a clash with a stored one (vanishingly rare) fails the unique constraint and the whole import."""
    now = utcnow()
    pseudonyms: set[str] = set()
    uuids: list[uuid.UUID] = []
    values: list[dict[str, Any]] = []
    for entry in entries:
        entry_uuid = entry.id or uuid.uuid4()
        pseudonym = new_pseudonym()
        while pseudonym in pseudonyms:
            pseudonym = new_pseudonym()
        pseudonyms.add(pseudonym)
        sealed = node.vault.seal(entry.identity().model_dump_json().encode(), associated_data(entry_uuid))
        uuids.append(entry_uuid)
        values.append(
            {
                "uuid": entry_uuid,
                "pseudonym": pseudonym,
                "category": entry.category,
                "origin_state": entry.origin_state,
                "focal_point": entry.focal_point,
                "identity_key_id": sealed.key_id,
                "identity_ciphertext": sealed.ciphertext,
                "synthetic": entry.synthetic,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(values), INSERT_BATCH):
        session.execute(insert(ProtectedPerson), values[start : start + INSERT_BATCH])
    return uuids


def list_registry(
    node: Node,
    principal: Principal,
    *,
    category: str | None = None,
    origin_state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ProtectedPersonOut]:
    """Entries by pseudonym: never an identity, whoever asks."""
    require(principal, "registry:read")
    conditions = []
    if category is not None:
        conditions.append(ProtectedPerson.category == category)
    if origin_state is not None:
        conditions.append(ProtectedPerson.origin_state == origin_state.upper())
    with node.store.reading() as session:
        rows = session.scalars(
            select(ProtectedPerson).where(*conditions).order_by(ProtectedPerson.id).limit(limit).offset(offset)
        )
        return [_out(row) for row in rows]


def count_registry(node: Node, principal: Principal) -> dict[str, int]:
    """Entries by category (the categories with none are left out)."""
    require(principal, "registry:read")
    with node.store.reading() as session:
        counts = session.execute(
            select(ProtectedPerson.category, func.count()).group_by(ProtectedPerson.category)
        ).all()
    return {str(category): int(count) for category, count in sorted(counts)}


def open_registry(node: Node, session: Session, *, origin_state: str | None = None) -> Iterator[RegistryEntry]:
    """Every entry (or those protected from `origin_state`) with its identity opened from the vault, for in-memory
    screening. The caller has checked its principal's permission and records the access."""
    query = select(ProtectedPerson).order_by(ProtectedPerson.id)
    if origin_state is not None:
        query = query.where(ProtectedPerson.origin_state == origin_state.upper())
    for row in session.scalars(query.execution_options(yield_per=1000)):
        sealed = Sealed(row.identity_key_id, row.identity_ciphertext)
        identity = ProtectedIdentity.model_validate_json(node.vault.open_sealed(sealed, associated_data(row.uuid)))
        yield RegistryEntry(row.uuid, row.pseudonym, row.category, row.origin_state, row.focal_point, identity)


def _out(row: ProtectedPerson) -> ProtectedPersonOut:
    return ProtectedPersonOut(
        id=row.uuid,
        pseudonym=row.pseudonym,
        category=row.category,
        origin_state=row.origin_state,
        focal_point=row.focal_point,
        synthetic=row.synthetic,
        created_at=row.created_at,
    )
