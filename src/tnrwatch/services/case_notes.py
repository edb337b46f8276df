"""Notes and tasks on a report's case.

A note, like a task's title, is case content: the officer's browser encrypts it with the report key, bound to its
place (`tnrwatch/1/note/<report>/<note id>`, `.../task/<report>/<task id>`: docs/report-format.md), and the server
keeps the ciphertext (checked for shape and size only), who wrote it and when. Notes are append-only: a correction
is a new note. A task's assignee, due date and done state are in the clear, for the lists and the notifications.

Whoever may read the report (its jurisdiction and those it was referred to) reads its notes and tasks; the
jurisdiction that holds the case writes them. A report of another jurisdiction gets the same answer as one that does
not exist. Every write, and every read of the ciphertext, is in the audit log, without content.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tnrwatch.crypto import envelope
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from tnrwatch.services import notifications
from tnrwatch.services.changes import record_access, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed, require
from tnrwatch.services.reports import held_report, visible_report
from tnrwatch.store.models import Account, CaseNote, CaseTask, Report
from tnrwatch.store.types import utcnow

MAX_NOTE_BYTES = 64 * 1024  # a note's ciphertext: some 60,000 characters of Latin text
MAX_TITLE_BYTES = 4 * 1024  # a task title's ciphertext
CASEWORKER_ROLES = ("officer", "supervisor")


@dataclass(frozen=True)
class NoteOut:
    id: uuid.UUID
    author: str | None  # None: an account since deleted
    created_at: dt.datetime
    ciphertext: bytes


@dataclass(frozen=True)
class TaskOut:
    id: uuid.UUID
    created_by: str | None
    created_at: dt.datetime
    title: bytes  # ciphertext
    assignee: str | None
    due_on: dt.date | None
    done: bool
    marked_by: str | None  # who last marked it done or not done
    marked_at: dt.datetime | None
    overdue: bool  # open, and its due date has passed (UTC)


@dataclass(frozen=True)
class CaseNotes:
    """What the case page shows: notes oldest first, tasks open first by due date, and who may do what."""

    notes: tuple[NoteOut, ...]
    tasks: tuple[TaskOut, ...]
    writable: bool  # the principal's jurisdiction holds the case and they may work it
    assignees: tuple[str, ...]  # who a task may be given to (empty unless writable)


def case_notes(node: Node, principal: Principal, report_id: uuid.UUID, *, today: dt.date | None = None) -> CaseNotes:
    """The case's notes and tasks (ciphertext); the read is in the audit log before anything is handed out."""
    require(principal, "report:read")
    day = today or utcnow().date()
    with node.store.writing() as session:
        report = visible_report(session, principal, report_id)
        record_access(session, principal, "read", "case_notes", report.id)
        notes = tuple(
            NoteOut(note.id, author, note.created_at, note.ciphertext)
            for note, author in session.execute(
                select(CaseNote, Account.username)
                .outerjoin(Account, Account.id == CaseNote.account_id)
                .where(CaseNote.report_id == report.id)
                .order_by(CaseNote.created_at, CaseNote.id)
            )
        )
        tasks = tuple(sorted(_tasks(session, report.id, day), key=_task_order))
        writable = report.jurisdiction_code == principal.jurisdiction and allowed(principal, "case:work")
        assignees = tuple(_assignees(session, report.jurisdiction_code)) if writable else ()
    return CaseNotes(notes, tasks, writable, assignees)


def add_note(node: Node, principal: Principal, report_id: uuid.UUID, note_id: uuid.UUID, ciphertext: bytes) -> NoteOut:
    """Append an encrypted note (its id made by the browser, bound into the ciphertext)."""
    require(principal, "case:work")
    _check_ciphertext(ciphertext, ("ciphertext",), MAX_NOTE_BYTES, "the note")
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        if session.get(CaseNote, note_id) is not None:
            raise ConflictError("this note was received already; notes are never changed, add a new one")
        note = CaseNote(
            id=note_id, report_id=report.id, account_id=principal.account_id, created_at=utcnow(), ciphertext=ciphertext
        )
        session.add(note)
        record_change(session, principal, "create", "case_note", note_id, ["ciphertext"], note=f"report {report.id}")
        return NoteOut(note_id, principal.username, note.created_at, ciphertext)


def add_task(
    node: Node,
    principal: Principal,
    report_id: uuid.UUID,
    task_id: uuid.UUID,
    title: bytes,
    *,
    assignee: str | None = None,
    due_on: dt.date | None = None,
) -> TaskOut:
    """Add a task with an encrypted title; the assignee (an officer or supervisor of the report's jurisdiction, or
    nobody) is notified unless they gave it to themself."""
    require(principal, "case:work")
    _check_ciphertext(title, ("title",), MAX_TITLE_BYTES, "the task title")
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        assigned = _assignee(session, report, assignee) if assignee else None
        if session.get(CaseTask, task_id) is not None:
            raise ConflictError("this task was received already")
        task = CaseTask(
            id=task_id,
            report_id=report.id,
            created_by=principal.account_id,
            created_at=utcnow(),
            title=title,
            assignee_id=assigned.id if assigned else None,
            due_on=due_on,
            done=False,
        )
        session.add(task)
        session.flush()
        fields = ["title", "assignee", "due_on"]
        record_change(session, principal, "create", "case_task", task_id, fields, note=f"report {report.id}")
        if assigned is not None and assigned.id != principal.account_id:
            notifications.notify_task(session, assigned.id, report.id)
        return _task(session, task, utcnow().date())


def mark_task(node: Node, principal: Principal, report_id: uuid.UUID, task_id: uuid.UUID, done: bool) -> TaskOut:
    """Mark a task done or not done, recording who and when (nothing changes when it already is)."""
    require(principal, "case:work")
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        task = session.get(CaseTask, task_id)
        if task is None or task.report_id != report.id:
            raise NotFoundError("no such task on this case")
        if task.done != done:
            task.done, task.marked_by, task.marked_at = done, principal.account_id, utcnow()
            session.flush()
            record_change(session, principal, "update", "case_task", task.id, ["done"], note=f"report {report.id}")
        return _task(session, task, utcnow().date())


def reassign_task(
    node: Node, principal: Principal, report_id: uuid.UUID, task_id: uuid.UUID, assignee: str | None
) -> TaskOut:
    """Give a task to another officer or supervisor of the report's jurisdiction, or to nobody; the new assignee is
    notified unless they gave it to themself (nothing changes when it is theirs already)."""
    require(principal, "case:work")
    with node.store.writing() as session:
        report = held_report(session, principal, report_id)
        task = session.get(CaseTask, task_id)
        if task is None or task.report_id != report.id:
            raise NotFoundError("no such task on this case")
        assigned = _assignee(session, report, assignee) if assignee else None
        new_id = assigned.id if assigned else None
        if task.assignee_id != new_id:
            task.assignee_id = new_id
            session.flush()
            record_change(session, principal, "update", "case_task", task.id, ["assignee"], note=f"report {report.id}")
            if assigned is not None and assigned.id != principal.account_id:
                notifications.notify_task(session, assigned.id, report.id)
        return _task(session, task, utcnow().date())


# -- helpers -----------------------------------------------------------------------------------------------------------


def _check_ciphertext(ciphertext: bytes, loc: tuple[str, ...], limit: int, what: str) -> None:
    """Shape only (the server opens nothing): a padded document of encrypt_document, within the size limit."""
    size = len(ciphertext)
    if size > limit:
        raise InvalidInputError(f"{what} is too long", [FieldError(loc, f"at most {limit} bytes of ciphertext")])
    padded = size - envelope.NONCE_BYTES - envelope.AEAD_ABYTES
    if padded < envelope.PAD_BLOCK or padded % envelope.PAD_BLOCK:
        raise InvalidInputError(f"{what} is malformed", [FieldError(loc, "not a padded, encrypted document")])


def _assignees(session: Session, jurisdiction: str) -> list[str]:
    return list(
        session.scalars(
            select(Account.username)
            .where(
                Account.jurisdiction_code == jurisdiction,
                Account.role.in_(CASEWORKER_ROLES),
                Account.disabled.is_(False),
            )
            .order_by(Account.username)
        )
    )


def _assignee(session: Session, report: Report, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if (
        account is None
        or account.disabled
        or account.jurisdiction_code != report.jurisdiction_code
        or account.role not in CASEWORKER_ROLES
    ):
        raise InvalidInputError(
            "no such officer in this jurisdiction",
            [FieldError(("assignee",), "an officer or supervisor of the report's focal point, or nobody")],
        )
    return account


def _tasks(session: Session, report_id: uuid.UUID, today: dt.date) -> list[TaskOut]:
    rows = session.scalars(select(CaseTask).where(CaseTask.report_id == report_id)).all()
    names = _names(session, {i for task in rows for i in (task.created_by, task.assignee_id, task.marked_by)})
    return [_task_out(task, names, today) for task in rows]


def _task(session: Session, task: CaseTask, today: dt.date) -> TaskOut:
    return _task_out(task, _names(session, {task.created_by, task.assignee_id, task.marked_by}), today)


def _names(session: Session, account_ids: set[int | None]) -> dict[int, str]:
    """The usernames of some accounts, by id, in one query."""
    wanted = [i for i in account_ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(Account.id, Account.username).where(Account.id.in_(wanted))).all())


def _task_out(task: CaseTask, names: dict[int, str], today: dt.date) -> TaskOut:
    def name(account_id: int | None) -> str | None:
        return names.get(account_id) if account_id is not None else None

    return TaskOut(
        id=task.id,
        created_by=name(task.created_by),
        created_at=task.created_at,
        title=task.title,
        assignee=name(task.assignee_id),
        due_on=task.due_on,
        done=task.done,
        marked_by=name(task.marked_by),
        marked_at=task.marked_at,
        overdue=not task.done and task.due_on is not None and task.due_on < today,
    )


def _task_order(task: TaskOut) -> tuple[bool, bool, dt.date, dt.datetime]:
    """Open before done; then those with a due date, soonest first; then by creation."""
    return (task.done, task.due_on is None, task.due_on or dt.date.max, task.created_at)
