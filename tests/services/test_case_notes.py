"""Notes and tasks on a case: stored as ciphertext only and bound to their report, append-only, written by the
case's jurisdiction and read by whoever may read the report, each write in the audit log without content; tasks
given to officers of the report's jurisdiction only, marked done and not done with who and when. Both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tnrwatch.crypto import envelope
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import accounts, case_notes, cases, notifications
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.store.models import AuditEntry, CaseNote, CaseTask

from .test_reports import accounts_id, make_officer, send_report

NOTE = "NOTE-CANARY-5e1d: met the reporter's brother at the café"


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def sealed(kind: str, report_id: uuid.UUID, item: uuid.UUID, text: str, key: bytes) -> bytes:
    """What staff-notes.js sends: the document encrypted with the report key, bound to its place."""
    document = {"v": 1, "kind": kind, "text": text}
    return envelope.encrypt_document(document, key, envelope.context(kind, report_id, str(item)))


def supervisor(node: Node, username: str, jurisdiction: str) -> Principal:
    accounts.add_account(node, Principal.operator(), username, "supervisor", jurisdiction=jurisdiction)
    return Principal(accounts_id(node, username), username, "supervisor", jurisdiction)


def test_a_note_is_stored_as_ciphertext_bound_to_its_report(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    first, second = send_report(intake, "DE"), send_report(intake, "DE")
    note_id = uuid.uuid4()
    ciphertext = sealed("note", first.report_id, note_id, NOTE, first.report_key)
    stored = case_notes.add_note(node, olga.principal, first.report_id, note_id, ciphertext)
    assert (stored.author, stored.ciphertext) == ("olga", ciphertext)

    with node.store.reading() as session:
        (row,) = session.scalars(select(CaseNote)).all()
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "case_note")).all()
    assert (row.report_id, row.account_id) == (first.report_id, olga.principal.account_id)
    assert NOTE.encode() not in row.ciphertext
    assert (dt.datetime.now(dt.UTC) - row.created_at) < dt.timedelta(minutes=1)  # exact: a staff time
    context = envelope.context("note", first.report_id, str(note_id))
    assert envelope.decrypt_document(row.ciphertext, first.report_key, context)["text"] == NOTE
    with pytest.raises(envelope.EnvelopeError):  # moved to the other report, it does not open
        envelope.decrypt_document(
            row.ciphertext, second.report_key, envelope.context("note", second.report_id, str(note_id))
        )
    (entry,) = entries
    assert (entry.action, entry.entity_uuid, entry.fields) == ("create", note_id, ["ciphertext"])
    assert NOTE not in entry.note

    listed = case_notes.case_notes(node, olga.principal, first.report_id)
    assert [note.id for note in listed.notes] == [note_id]
    assert case_notes.case_notes(node, olga.principal, second.report_id).notes == ()


def test_notes_are_append_only_and_checked_for_shape_and_size(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    sent = send_report(intake, "DE")
    note_id = uuid.uuid4()
    case_notes.add_note(
        node, olga.principal, sent.report_id, note_id, sealed("note", sent.report_id, note_id, "a", sent.report_key)
    )
    with pytest.raises(ConflictError, match="never changed"):
        case_notes.add_note(
            node, olga.principal, sent.report_id, note_id, sealed("note", sent.report_id, note_id, "b", sent.report_key)
        )
    with pytest.raises(InvalidInputError) as refused:
        case_notes.add_note(node, olga.principal, sent.report_id, uuid.uuid4(), NOTE.encode())
    assert refused.value.errors[0].loc == ("ciphertext",)
    huge = sealed("note", sent.report_id, note_id, "x" * case_notes.MAX_NOTE_BYTES, sent.report_key)
    with pytest.raises(InvalidInputError, match="too long"):
        case_notes.add_note(node, olga.principal, sent.report_id, uuid.uuid4(), huge)
    notes = case_notes.case_notes(node, olga.principal, sent.report_id).notes
    assert len(notes) == 1
    opened = envelope.decrypt_document(
        notes[0].ciphertext, sent.report_key, envelope.context("note", sent.report_id, str(note_id))
    )
    assert opened["text"] == "a"  # the first one stays as it was


def test_another_jurisdiction_gets_not_found_and_other_roles_are_refused(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    fabien = make_officer(node, "fabien", "FR")
    sent = send_report(intake, "DE")
    task_id = uuid.uuid4()
    title = sealed("task", sent.report_id, task_id, "call back", sent.report_key)
    case_notes.add_task(node, olga.principal, sent.report_id, task_id, title)
    note = sealed("note", sent.report_id, uuid.uuid4(), NOTE, sent.report_key)
    for attempt in (
        lambda: case_notes.case_notes(node, fabien.principal, sent.report_id),
        lambda: case_notes.add_note(node, fabien.principal, sent.report_id, uuid.uuid4(), note),
        lambda: case_notes.add_task(node, fabien.principal, sent.report_id, uuid.uuid4(), title),
        lambda: case_notes.mark_task(node, fabien.principal, sent.report_id, task_id, True),
        lambda: case_notes.mark_task(node, olga.principal, uuid.uuid4(), task_id, True),  # no such report
    ):
        with pytest.raises(NotFoundError, match="no such report in your jurisdiction"):
            attempt()
    other = send_report(intake, "DE")
    with pytest.raises(NotFoundError, match="no such task"):  # a task of another report
        case_notes.mark_task(node, olga.principal, other.report_id, task_id, True)
    accounts.add_account(node, Principal.operator(), "ana", "analyst")
    analyst = Principal(accounts_id(node, "ana"), "ana", "analyst")
    with pytest.raises(ForbiddenError):
        case_notes.case_notes(node, analyst, sent.report_id)
    with pytest.raises(ForbiddenError):
        case_notes.add_note(node, analyst, sent.report_id, uuid.uuid4(), note)


def test_a_focal_point_it_was_referred_to_reads_the_notes_but_does_not_write(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    fabien = make_officer(node, "fabien", "FR")
    sent = send_report(intake, "DE")
    note_id = uuid.uuid4()
    case_notes.add_note(
        node, olga.principal, sent.report_id, note_id, sealed("note", sent.report_id, note_id, NOTE, sent.report_key)
    )
    french_key = SealedKey(
        fabien.key_id, envelope.seal_report_key(sent.report_key, fabien.public_key, sent.report_id, str(fabien.key_id))
    )
    cases.refer(node, olga.principal, sent.report_id, "focal_point", to_jurisdiction="FR", sealed_keys=[french_key])
    seen = case_notes.case_notes(node, fabien.principal, sent.report_id)
    assert [note.id for note in seen.notes] == [note_id]
    assert (seen.writable, seen.assignees) == (False, ())
    with pytest.raises(NotFoundError):
        case_notes.add_note(node, fabien.principal, sent.report_id, uuid.uuid4(), seen.notes[0].ciphertext)
    with node.store.reading() as session:
        reads = session.scalars(
            select(AuditEntry.username).where(AuditEntry.entity == "case_notes", AuditEntry.action == "read")
        ).all()
    assert reads == ["fabien"]


def test_tasks_are_given_within_the_jurisdiction_marked_with_who_and_when_and_notify(
    node: Node, intake: Intake
) -> None:
    olga = make_officer(node, "olga", "DE")
    make_officer(node, "petra", "DE")
    make_officer(node, "fabien", "FR")
    boss = supervisor(node, "sabine", "DE")
    accounts.add_account(node, Principal.operator(), "ana", "analyst", jurisdiction=None)
    sent = send_report(intake, "DE")
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)

    for who in ("fabien", "ana", "nobody-here"):
        task_id = uuid.uuid4()
        title = sealed("task", sent.report_id, task_id, "x", sent.report_key)
        with pytest.raises(InvalidInputError) as refused:
            case_notes.add_task(node, olga.principal, sent.report_id, task_id, title, assignee=who)
        assert refused.value.errors[0].loc == ("assignee",)

    late_id, own_id = uuid.uuid4(), uuid.uuid4()
    late = case_notes.add_task(
        node, olga.principal, sent.report_id, late_id,
        sealed("task", sent.report_id, late_id, "ring the police liaison", sent.report_key),
        assignee="petra", due_on=yesterday,
    )  # fmt: skip
    case_notes.add_task(
        node, boss, sent.report_id, own_id, sealed("task", sent.report_id, own_id, "review", sent.report_key),
        assignee="sabine",
    )  # fmt: skip
    assert (late.assignee, late.due_on, late.overdue, late.done, late.created_by) == (
        "petra", yesterday, True, False, "olga"
    )  # fmt: skip
    petra = Principal(accounts_id(node, "petra"), "petra", "officer", "DE")
    assert [(n.kind, n.report_id) for n in notifications.list_notifications(node, petra)] == [("task", sent.report_id)]
    assert notifications.list_notifications(node, boss) == []  # gave it to herself: nothing to tell
    with pytest.raises(ConflictError):
        case_notes.add_task(node, olga.principal, sent.report_id, late_id, late.title)

    done = case_notes.mark_task(node, petra, sent.report_id, late_id, True)
    assert (done.done, done.marked_by, done.overdue) == (True, "petra", False)
    assert done.marked_at is not None
    again = case_notes.mark_task(node, olga.principal, sent.report_id, late_id, True)  # already done: no change
    assert (again.marked_by, again.marked_at) == ("petra", done.marked_at)
    reopened = case_notes.mark_task(node, olga.principal, sent.report_id, late_id, False)
    assert (reopened.done, reopened.marked_by, reopened.overdue) == (False, "olga", True)

    listed = case_notes.case_notes(node, olga.principal, sent.report_id)
    assert [task.id for task in listed.tasks] == [late_id, own_id]  # due first, then those without a date
    assert (listed.writable, listed.assignees) == (True, ("olga", "petra", "sabine"))
    with node.store.reading() as session:
        titles = session.scalars(select(CaseTask.title)).all()
        changes = session.scalars(
            select(AuditEntry.fields).where(AuditEntry.entity == "case_task", AuditEntry.action == "update")
        ).all()
    assert all(b"police" not in title for title in titles)
    assert changes == [["done"], ["done"]]  # the repeated "done" changed nothing and left no entry


def test_an_open_task_is_given_to_someone_else_who_is_told(node: Node, intake: Intake) -> None:
    olga = make_officer(node, "olga", "DE")
    make_officer(node, "petra", "DE")
    make_officer(node, "fabien", "FR")
    sent = send_report(intake, "DE")
    task_id = uuid.uuid4()
    title = sealed("task", sent.report_id, task_id, "call the lawyer", sent.report_key)
    case_notes.add_task(node, olga.principal, sent.report_id, task_id, title, assignee="olga")
    petra = Principal(accounts_id(node, "petra"), "petra", "officer", "DE")
    fabien = Principal(accounts_id(node, "fabien"), "fabien", "officer", "FR")

    given = case_notes.reassign_task(node, olga.principal, sent.report_id, task_id, "petra")
    assert given.assignee == "petra"
    assert [(n.kind, n.report_id) for n in notifications.list_notifications(node, petra)] == [("task", sent.report_id)]
    assert case_notes.reassign_task(node, olga.principal, sent.report_id, task_id, "petra").assignee == "petra"
    assert len(notifications.list_notifications(node, petra)) == 1  # already hers: nobody is told again
    with pytest.raises(InvalidInputError) as refused:
        case_notes.reassign_task(node, olga.principal, sent.report_id, task_id, "fabien")
    assert refused.value.errors[0].loc == ("assignee",)
    with pytest.raises(NotFoundError):
        case_notes.reassign_task(node, fabien, sent.report_id, task_id, None)
    assert case_notes.reassign_task(node, petra, sent.report_id, task_id, None).assignee is None
    with node.store.reading() as session:
        changes = session.scalars(
            select(AuditEntry.fields).where(AuditEntry.entity == "case_task", AuditEntry.action == "update")
        ).all()
    assert changes == [["assignee"], ["assignee"]]
