"""Retention: a closed case's raw report is shredded when its jurisdiction's retention period after closing ends.

Shredding destroys the report's shredding key first (crypto/shred.py, store/shred_keys.py): from that moment no copy
of the report key opens, in the database or in any backup of it, so the answers, messages and files are unreadable
for good. Then the ciphertext itself is deleted from the database, the attachment folder and the evidence folder
(evidence items were encrypted with the report key as well; their deletion is in the audit log). What the focal
point coded stays: the case's metadata, its moves and referrals, and the incidents coded from it.

A case that is reopened before its time comes is not shredded; one closed again starts a new period.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update

from tnrwatch.crypto import envelope, shred
from tnrwatch.domain import cases
from tnrwatch.errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import evidence
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal
from tnrwatch.store.models import (
    Attachment,
    CaseEvent,
    CaseNote,
    CaseTask,
    EvidenceItem,
    Jurisdiction,
    Report,
    ReportKey,
    ReportMessage,
)
from tnrwatch.store.types import utcnow

MAX_RETENTION_DAYS = 36_500
# A shredding key whose report never arrived (the write failed after the key was made) is forgotten after this.
ORPHAN_KEY_AGE = dt.timedelta(days=1)


@dataclass(frozen=True)
class DueReport:
    report_id: uuid.UUID
    jurisdiction: str
    closed_at: dt.datetime
    due_at: dt.datetime


@dataclass(frozen=True)
class RetentionRun:
    shredded: tuple[uuid.UUID, ...]
    orphan_keys: int


def _operator_only(principal: Principal) -> None:
    if principal.role != OPERATOR_ROLE:
        raise ForbiddenError("retention is run and set by the node's operator (`tnrwatch retention`)")


def set_retention(node: Node, principal: Principal, code: str, days: int | None) -> None:
    """Shred raw reports of `code` `days` after their case closes; None keeps them."""
    _operator_only(principal)
    if days is not None and not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInputError(
            "the retention period is invalid", [FieldError(("days",), f"give 0 to {MAX_RETENTION_DAYS} days")]
        )
    with node.store.writing() as session:
        jurisdiction = session.get(Jurisdiction, code)
        if jurisdiction is None:
            raise NotFoundError(f"no jurisdiction {code!r}; `tnrwatch jurisdictions list` shows them")
        jurisdiction.retention_days = days
        record_change(session, principal, "update", "jurisdiction", fields=["retention_days"], note=code)


def due(node: Node, now: dt.datetime | None = None) -> list[DueReport]:
    """Closed, not yet shredded reports whose retention period has ended, oldest first."""
    now = now or utcnow()
    closed_at = (
        select(CaseEvent.report_id, func.max(CaseEvent.at).label("at"))
        .where(CaseEvent.to_status == cases.CLOSED)
        .group_by(CaseEvent.report_id)
        .subquery()
    )
    query = (
        select(Report.id, Report.jurisdiction_code, closed_at.c.at, Jurisdiction.retention_days)
        .join(closed_at, closed_at.c.report_id == Report.id)
        .join(Jurisdiction, Jurisdiction.code == Report.jurisdiction_code)
        .where(
            Report.status == cases.CLOSED,
            Report.shredded_at.is_(None),
            Jurisdiction.retention_days.is_not(None),
        )
    )
    found = []
    with node.store.reading() as session:
        for report_id, code, at, days in session.execute(query):
            due_at = at + dt.timedelta(days=days)
            if due_at <= now:
                found.append(DueReport(report_id, code, at, due_at))
    return sorted(found, key=lambda row: (row.due_at, str(row.report_id)))


def shred_reports(node: Node, principal: Principal, report_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Shred these reports now (whatever their state: the operator's decision). Returns those shredded by this
    call (a report shredded before is left as it is)."""
    _operator_only(principal)
    if not report_ids:
        return []
    # The irreversible step first: once the keys are gone, a crash before the rows are cleared leaves only
    # ciphertext nobody can open, which the next run deletes.
    node.shred_keys.destroy(report_ids)
    now = utcnow()
    done: list[uuid.UUID] = []
    files: list[uuid.UUID] = []
    evidence_files: list[Path] = []
    with node.store.writing() as session:
        for report_id in report_ids:
            cleared = session.execute(
                update(Report)
                .where(Report.id == report_id, Report.shredded_at.is_(None))
                .values(answers=b"", reporter_key=b"", size=0, shredded_at=now)
            )
            if not cast("CursorResult[Any]", cleared).rowcount:  # another run shredded it already
                continue
            session.execute(delete(ReportKey).where(ReportKey.report_id == report_id))
            session.execute(delete(ReportMessage).where(ReportMessage.report_id == report_id))
            # Case notes and task titles were encrypted with the report key: gone with it (tasks keep their dates).
            session.execute(delete(CaseNote).where(CaseNote.report_id == report_id))
            session.execute(update(CaseTask).where(CaseTask.report_id == report_id).values(title=b""))
            # Evidence was encrypted with the report key too: its items, files and custody logs go, each deletion
            # in the audit log (`tnrwatch evidence verify` expects every item it saw created to exist or be deleted).
            items = session.execute(
                select(EvidenceItem.id, EvidenceItem.attachment_id).where(EvidenceItem.report_id == report_id)
            ).all()
            session.execute(delete(EvidenceItem).where(EvidenceItem.report_id == report_id))
            for item_id, attachment_id in items:
                record_change(session, principal, "delete", "evidence", item_id, note="retention")
                if attachment_id is None:
                    evidence_files.append(evidence.evidence_path(node.settings, item_id))
            files += session.scalars(select(Attachment.id).where(Attachment.report_id == report_id))
            session.execute(delete(Attachment).where(Attachment.report_id == report_id))
            record_change(session, principal, "shred", "report", report_id, ["content"], note="retention")
            done.append(report_id)
    folder = node.settings.resolved_attachment_dir
    for path in [folder / str(attachment_id) for attachment_id in files] + evidence_files:
        path.unlink(missing_ok=True)
    return done


def forget_orphan_keys(node: Node, now: dt.datetime | None = None) -> int:
    """Destroy shredding keys made over a day ago for reports that never reached the database."""
    candidates = node.shred_keys.made_before((now or utcnow()) - ORPHAN_KEY_AGE)
    if not candidates:
        return 0
    stored: set[uuid.UUID] = set()
    with node.store.reading() as session:
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            stored |= set(session.scalars(select(Report.id).where(Report.id.in_(chunk))))
    orphans = [report_id for report_id in candidates if report_id not in stored]
    return node.shred_keys.destroy(orphans) if orphans else 0


def run(node: Node, now: dt.datetime | None = None) -> RetentionRun:
    """The scheduled job: shred every report that is due, and forget orphaned keys."""
    principal = Principal.operator()
    shredded = shred_reports(node, principal, [row.report_id for row in due(node, now)])
    return RetentionRun(tuple(shredded), forget_orphan_keys(node, now))


def wrap_existing(node: Node, principal: Principal) -> int:
    """Wrap the key copies of reports stored before retention existed (migration 0009) with shredding keys of their
    own, so that shredding them holds in backups taken from now on. Returns how many reports were wrapped."""
    _operator_only(principal)
    with node.store.reading() as session:
        pending = list(
            session.scalars(select(Report.id).where(Report.key_wrapped.is_(False), Report.shredded_at.is_(None)))
        )
    for start in range(0, len(pending), 200):
        chunk = pending[start : start + 200]
        keys = node.shred_keys.get_or_make(chunk)
        with node.store.writing() as session:
            for report in session.scalars(select(Report).where(Report.id.in_(chunk), Report.key_wrapped.is_(False))):
                key = keys[report.id]
                report.reporter_key = shred.wrap(key, report.reporter_key, report.id, envelope.REPORTER)
                for copy in session.scalars(select(ReportKey).where(ReportKey.report_id == report.id)):
                    copy.sealed = shred.wrap(key, copy.sealed, report.id, str(copy.recipient_key_id))
                report.key_wrapped = True
            record_change(session, principal, "wrap", "report", fields=["keys"], count=len(chunk), note="retention")
    return len(pending)
