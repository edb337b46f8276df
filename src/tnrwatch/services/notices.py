"""Notices under vetting: entered one by one (form, API) or imported in batches (JSON, CSV), read, and decided.

The subject of a notice (names, date of birth, nationalities, place of birth) is personal data and is sealed in the
vault, bound to the notice's uuid, like a person's identity (services/persons.py). Type, Interpol reference,
requesting state, dates, charges and the decision stay in the clear: lists, the requesting state's record and the
red-flag rules read them, and charges are not names. Only the liaison (and the operator) read notices; opening a
notice's subject is recorded in the audit log each time. Lists never carry the subject.

An import lands whole or not at all: every bad record is reported with its row (CSV, as a spreadsheet numbers it) or
index (JSON, from 0) and its field, like services/imports.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, selectinload

from tnrwatch.crypto.vault import Sealed
from tnrwatch.domain.notice import ArrestWarrant, DecisionIn, NoticeIn, NoticeOut, NoticeSubject, NoticeSummary
from tnrwatch.domain.validation import try_validate, validate
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from tnrwatch.interop.readers import Row
from tnrwatch.interop.record_files import read_records, split_cell
from tnrwatch.services.changes import record_access, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Notice, NoticeWarrant
from tnrwatch.store.types import utcnow

MAX_LISTED_ERRORS = 1000
_CSV_LIST_COLUMNS = ("other_names", "nationalities")
_CSV_WARRANT_COLUMNS = ("charge", "charge_translation", "issuing_country_id", "legal_provision")


def associated_data(notice_uuid: uuid.UUID) -> bytes:
    return b"tnrwatch notice subject " + notice_uuid.bytes


@dataclass(frozen=True)
class NoticeImportResult:
    file: str
    format: str
    rows: int
    imported: int


# -- writing ---------------------------------------------------------------------------------------------------------


def create_notice(node: Node, principal: Principal, raw: Mapping[str, Any] | NoticeIn) -> NoticeOut:
    """Enter one notice (form or API); the answer carries the subject the caller just gave."""
    require(principal, "notice:write")
    notice = raw if isinstance(raw, NoticeIn) else validate(NoticeIn, raw, node.taxonomy, what="notice")
    with node.store.writing() as session:
        problem = _conflict(session, notice, set(), set())
        if problem is not None:
            raise ConflictError(problem.msg)
        row = _add(session, node, principal, notice)
        record_change(session, principal, "create", "notice", row.uuid, notice.model_fields_set)
        return _out(row, notice.subject())


def import_notices(
    node: Node,
    principal: Principal,
    path: Path,
    *,
    format: str | None = None,
    notice_type: str | None = None,
    synthetic: bool = False,
    label: str | None = None,
) -> NoticeImportResult:
    """Import a batch of notices from JSON (a list, {"notices": [...]} or Interpol's {"_embedded": {"notices": [...]}})
    or CSV (one notice per row; see `csv_record`). `notice_type` fills in records that do not say theirs (Interpol's
    lists do not). Every bad record is reported, and then nothing is imported."""
    require(principal, "notice:write")
    label = label or str(path)
    fmt, rows = read_records(path, format, label, "notices")
    errors: list[FieldError] = []
    valid: list[tuple[int, NoticeIn]] = []
    for row in rows:
        result = _check(node, row, fmt, notice_type, synthetic)
        if isinstance(result, NoticeIn):
            valid.append((row.number, result))
        else:
            errors += [FieldError((label, row.number, *error.loc), error.msg) for error in result]
    with node.store.writing() as session:
        seen_ids: set[uuid.UUID] = set()
        seen_references: set[tuple[str, str]] = set()
        for number, notice in valid:
            problem = _conflict(session, notice, seen_ids, seen_references)
            if problem is not None:
                errors.append(FieldError((label, number, *problem.loc), problem.msg))
        if errors:
            bad = len({error.loc[1] for error in errors})
            raise InvalidInputError(
                f"{label}: {bad} of {len(rows)} records are invalid; nothing was imported",
                sorted(errors, key=lambda error: (error.loc[1], error.where()))[:MAX_LISTED_ERRORS],
            )
        for _, notice in valid:
            _add(session, node, principal, notice)
        record_change(session, principal, "import", "notice", count=len(valid), note=path.name[:300])
    return NoticeImportResult(file=label, format=fmt, rows=len(rows), imported=len(valid))


def _check(node: Node, row: Row, fmt: str, notice_type: str | None, synthetic: bool) -> NoticeIn | list[FieldError]:
    if row.problem is not None:
        return [FieldError((), row.problem)]
    raw: dict[str, Any] = dict(row.cells)
    problems: list[FieldError] = []
    if fmt == "csv":
        raw, problems = csv_record(raw)
    if notice_type and not raw.get("notice_type"):
        raw["notice_type"] = notice_type
    if synthetic:
        raw["synthetic"] = True
    result = try_validate(NoticeIn, raw, node.taxonomy)
    if isinstance(result, list):
        # A column csv_record already reported is also invalid to the model: say it once.
        reported = {error.loc[:1] for error in problems}
        return problems + [error for error in result if error.loc[:1] not in reported]
    return problems or result


def csv_record(cells: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """A CSV row as a notice record. `other_names` and `nationalities` hold several values separated by ";". One
    warrant is given by the columns `charge`, `charge_translation`, `issuing_country_id` (default: the requesting
    state) and `legal_provision`; several as a JSON list in one `arrest_warrants` column. Not both."""
    raw: dict[str, Any] = {key: value for key, value in cells.items() if key not in _CSV_WARRANT_COLUMNS}
    for column in _CSV_LIST_COLUMNS:
        if column in raw:
            raw[column] = split_cell(str(raw[column]))
    flat = {key: cells[key] for key in _CSV_WARRANT_COLUMNS if key in cells}
    if "arrest_warrants" in raw:
        if flat:
            columns = ", ".join(sorted(flat))
            return raw, [FieldError(("arrest_warrants",), f"give warrants as JSON here or in {columns}, not both")]
        try:
            raw["arrest_warrants"] = json.loads(str(raw["arrest_warrants"]))
        except json.JSONDecodeError as exc:
            return raw, [FieldError(("arrest_warrants",), f"must be a JSON list of warrants ({exc.msg})")]
    elif flat:
        flat.setdefault("issuing_country_id", raw.get("requesting_state", ""))
        raw["arrest_warrants"] = [flat]
    return raw, []


def _conflict(
    session: Session, notice: NoticeIn, seen_ids: set[uuid.UUID], seen_references: set[tuple[str, str]]
) -> FieldError | None:
    """An id or (type, reference) already in the store or earlier in the batch; else None. Adds to the `seen` sets."""
    if notice.id is not None:
        if notice.id in seen_ids:
            return FieldError(("id",), f"the id {notice.id} appears earlier in the file")
        seen_ids.add(notice.id)
        if session.scalar(select(Notice.id).where(Notice.uuid == notice.id)) is not None:
            return FieldError(("id",), f"a notice with id {notice.id} already exists")
    if notice.interpol_reference is not None:
        key = (notice.notice_type, notice.interpol_reference)
        if key in seen_references:
            return FieldError(("interpol_reference",), f"{key[1]} appears earlier in the file as a {key[0]}")
        seen_references.add(key)
        clash = select(Notice.id).where(tuple_(Notice.notice_type, Notice.interpol_reference) == key)
        if session.scalar(clash) is not None:
            return FieldError(("interpol_reference",), f"a {key[0]} with the reference {key[1]} is already here")
    return None


def _add(session: Session, node: Node, principal: Principal, notice: NoticeIn) -> Notice:
    notice_uuid = notice.id or uuid.uuid4()
    sealed = node.vault.seal(notice.subject().model_dump_json().encode(), associated_data(notice_uuid))
    now = utcnow()
    row = Notice(
        uuid=notice_uuid,
        notice_type=notice.notice_type,
        interpol_reference=notice.interpol_reference,
        requesting_state=notice.requesting_state,
        issued=notice.issued,
        received=notice.received or now.date(),
        decision_due=notice.decision_due,
        decision="none",
        subject_key_id=sealed.key_id,
        subject_ciphertext=sealed.ciphertext,
        synthetic=notice.synthetic,
        created_by_id=principal.account_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    row.warrants = [
        NoticeWarrant(
            position=position,
            issuing_country=warrant.issuing_country_id,
            charge=warrant.charge,
            charge_translation=warrant.charge_translation,
            legal_provision=warrant.legal_provision,
        )
        for position, warrant in enumerate(notice.arrest_warrants)
    ]
    session.add(row)
    session.flush()
    return row


def decide(node: Node, principal: Principal, notice_uuid: uuid.UUID, raw: Mapping[str, Any] | DecisionIn) -> NoticeOut:
    """Record the liaison's decision and its reasons (a later decision replaces it; the audit log keeps each one's
    fields, never the reasons' words)."""
    require(principal, "notice:write")
    decision = raw if isinstance(raw, DecisionIn) else validate(DecisionIn, raw, node.taxonomy, what="decision")
    with node.store.writing() as session:
        row = _row(session, notice_uuid)
        row.decision = decision.decision
        row.decision_reasons = decision.reasons
        row.decided_at = row.updated_at = utcnow()
        row.decided_by_id = principal.account_id
        row.decided_by = principal.username
        row.version += 1
        record_change(session, principal, "decide", "notice", notice_uuid, ("decision", "decision_reasons"))
        subject = open_subject(node, row)
        record_access(session, principal, "read-subject", "notice", notice_uuid)
        return _out(row, subject)


# -- reading ---------------------------------------------------------------------------------------------------------


def list_notices(
    node: Node,
    principal: Principal,
    *,
    decision: str | None = None,
    requesting_state: str | None = None,
    notice_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[NoticeSummary]:
    """Notices, newest received first. Never the subject."""
    require(principal, "notice:read")
    conditions = []
    if decision is not None:
        conditions.append(Notice.decision == decision)
    if requesting_state is not None:
        conditions.append(Notice.requesting_state == requesting_state.upper())
    if notice_type is not None:
        conditions.append(Notice.notice_type == notice_type)
    with node.store.reading() as session:
        rows = session.scalars(
            select(Notice)
            .options(selectinload(Notice.warrants))
            .where(*conditions)
            .order_by(Notice.received.desc(), Notice.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_summary(row) for row in rows]


def get_notice(node: Node, principal: Principal, notice_uuid: uuid.UUID) -> NoticeOut:
    """One notice with its subject opened from the vault; the read is recorded before the subject is handed out."""
    require(principal, "notice:read")
    with node.store.writing() as session:
        row = _row(session, notice_uuid)
        subject = open_subject(node, row)
        record_access(session, principal, "read-subject", "notice", notice_uuid)
        return _out(row, subject)


def open_subject(node: Node, row: Notice) -> NoticeSubject:
    """A notice row's subject, opened from the vault. For services that screen notices: they check `notice:read`
    and record the access themselves."""
    plaintext = node.vault.open_sealed(Sealed(row.subject_key_id, row.subject_ciphertext), associated_data(row.uuid))
    return NoticeSubject.model_validate_json(plaintext)


def notice_row(session: Session, notice_uuid: uuid.UUID) -> Notice:
    """The notice with its warrants loaded, or `NotFoundError`."""
    return _row(session, notice_uuid)


def notice_out(row: Notice, subject: NoticeSubject) -> NoticeOut:
    """A notice row (warrants loaded) with its opened subject, as `get_notice` answers it (services/screening.py)."""
    return _out(row, subject)


def _row(session: Session, notice_uuid: uuid.UUID) -> Notice:
    row = session.scalar(select(Notice).options(selectinload(Notice.warrants)).where(Notice.uuid == notice_uuid))
    if row is None:
        raise NotFoundError(f"no notice with id {notice_uuid}")
    return row


def _summary(row: Notice) -> NoticeSummary:
    return NoticeSummary(
        id=row.uuid,
        notice_type=row.notice_type,
        interpol_reference=row.interpol_reference,
        requesting_state=row.requesting_state,
        charges=[warrant.charge for warrant in row.warrants],
        issued=row.issued,
        received=row.received,
        decision_due=row.decision_due,
        decision=row.decision,
        synthetic=row.synthetic,
        created_at=row.created_at,
    )


def _out(row: Notice, subject: NoticeSubject) -> NoticeOut:
    return NoticeOut(
        **_summary(row).model_dump(),
        arrest_warrants=[
            ArrestWarrant(
                issuing_country_id=warrant.issuing_country,
                charge=warrant.charge,
                charge_translation=warrant.charge_translation,
                legal_provision=warrant.legal_provision,
            )
            for warrant in row.warrants
        ],
        decision_reasons=row.decision_reasons,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        version=row.version,
        subject=subject,
    )
