"""Retention by crypto-shredding: a closed case's raw report becomes unreadable for good once its period ends, also
from a backup of the database taken before; what was coded stays. Both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tnrwatch.crypto import envelope, receipts, shred
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import cases, evidence, report_reader, retention
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.store.models import Attachment, AuditEntry, CaseEvent, EvidenceItem, Report, ReportKey, ReportMessage
from tnrwatch.store.shred_keys import ShredKeys
from tnrwatch.store.types import utcnow

from .test_evidence import make_case
from .test_reports import CANARY, Officer, make_officer, send_report

OPERATOR = Principal.operator()


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def close(node: Node, officer: Officer, report_id: uuid.UUID) -> dt.datetime:
    for target in ("acknowledged", "triaged", "closed"):
        cases.move(node, officer.principal, report_id, target)
    with node.store.reading() as session:
        closed = session.scalar(
            select(CaseEvent.at).where(CaseEvent.report_id == report_id, CaseEvent.to_status == "closed")
        )
    assert closed is not None
    return closed


def backup(node: Node, report_id: uuid.UUID) -> tuple[bytes, bytes, dict[uuid.UUID, bytes]]:
    """What a database backup holds of a report: its answers, the reporter's copy, every recipient's copy."""
    with node.store.reading() as session:
        report = session.get(Report, report_id)
        assert report is not None
        rows = session.execute(
            select(ReportKey.recipient_key_id, ReportKey.sealed).where(ReportKey.report_id == report_id)
        ).all()
        copies: dict[uuid.UUID, bytes] = dict(rows)
        return report.answers, report.reporter_key, copies


def test_every_stored_copy_is_wrapped_and_only_the_shredding_key_unwraps_it(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    sent = send_report(intake, "DE")
    answers, reporter_copy, copies = backup(node, sent.report_id)
    stored = copies[officer.key_id]
    with pytest.raises(envelope.EnvelopeError):  # the backup's copy alone does not open with the officer's key
        envelope.open_report_key(stored, officer.private_key, sent.report_id, str(officer.key_id))
    key = node.shred_keys.get(sent.report_id)
    assert key is not None
    sealed = shred.unwrap(key, stored, sent.report_id, str(officer.key_id))
    report_key = envelope.open_report_key(sealed, officer.private_key, sent.report_id, str(officer.key_id))
    assert CANARY in str(envelope.decrypt_document(answers, report_key, envelope.answers_context(sent.report_id)))
    with pytest.raises(envelope.EnvelopeError):  # bound to its holder: the reporter's copy is not the officer's
        shred.unwrap(key, reporter_copy, sent.report_id, str(officer.key_id))
    # The officer's reading path unwraps it for them.
    thread = report_reader.decrypt_thread(
        intake.officer_thread(officer.principal, sent.report_id)[0], officer.private_key
    )
    assert thread.answers["what"] == {"description": CANARY}


def test_a_closed_case_is_shredded_when_its_period_ends_and_no_backup_opens_it(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    sent = send_report(intake, "DE", files=[b"a photo of the letter"])
    message_id = uuid.uuid4()
    intake.add_message(
        principal=officer.principal,
        report_id=sent.report_id,
        message_id=message_id,
        ciphertext=envelope.encrypt_document(
            {"v": 1, "kind": "message", "text": "we read you", "attachments": []},
            sent.report_key,
            envelope.message_context(sent.report_id, message_id),
        ),
    )
    retention.set_retention(node, OPERATOR, "DE", 30)
    closed = close(node, officer, sent.report_id)
    _, reporter_copy, copies = backup(node, sent.report_id)
    key = node.shred_keys.get(sent.report_id)
    assert key is not None
    with node.store.reading() as session:
        files = list(session.scalars(select(Attachment.id).where(Attachment.report_id == sent.report_id)))
    assert files
    assert all(intake.attachment_path(f).exists() for f in files)

    assert retention.run(node, closed + dt.timedelta(days=29)).shredded == ()
    assert [row.report_id for row in retention.due(node, closed + dt.timedelta(days=30))] == [sent.report_id]
    assert retention.run(node, closed + dt.timedelta(days=30)).shredded == (sent.report_id,)
    assert retention.run(node, closed + dt.timedelta(days=31)).shredded == ()  # once

    # The backup taken before, with the officer's private key and the reporter's receipt: nothing opens.
    assert node.shred_keys.get(sent.report_id) is None
    for holder, stored, private in (
        (str(officer.key_id), copies[officer.key_id], officer.private_key),
        (envelope.REPORTER, reporter_copy, receipts.reporter_key_pair(sent.secret)[1]),
    ):
        with pytest.raises(envelope.EnvelopeError):
            envelope.open_report_key(stored, private, sent.report_id, holder)
        with pytest.raises(envelope.EnvelopeError):
            shred.unwrap(shred.new_key(), stored, sent.report_id, holder)
    assert key not in node.shred_keys.path.read_bytes()  # secure_delete: the key's bytes are gone from the file
    # The live database and folder hold no content any more; the case stays.
    with node.store.reading() as session:
        report = session.get(Report, sent.report_id)
        assert report is not None
        assert (report.answers, report.reporter_key, report.status) == (b"", b"", "closed")
        assert report.shredded_at is not None
        assert session.scalar(select(ReportKey).where(ReportKey.report_id == sent.report_id)) is None
        assert session.scalar(select(ReportMessage).where(ReportMessage.report_id == sent.report_id)) is None
        assert session.scalar(select(Attachment).where(Attachment.report_id == sent.report_id)) is None
        assert len(cases.history(node, officer.principal, sent.report_id)) == 3
        shredding = session.scalars(select(AuditEntry).where(AuditEntry.action == "shred")).all()
        assert [(e.entity, e.entity_uuid, e.note) for e in shredding] == [("report", sent.report_id, "retention")]
    assert not any(intake.attachment_path(f).exists() for f in files)
    # The officer sees a report without content; the reporter is told it was deleted.
    thread, key_out = intake.officer_thread(officer.principal, sent.report_id)
    assert key_out is None
    assert thread.report.shredded_at is not None
    with pytest.raises(NotFoundError, match="deleted"):
        intake.reporter_thread(receipts.lookup_token(sent.secret))
    # And it cannot be shared any more: there is no key left to give.
    french = make_officer(node, "fabien", "FR")
    cases.move(node, officer.principal, sent.report_id, "triaged")
    copy = envelope.seal_report_key(envelope.new_key(), french.public_key, sent.report_id, str(french.key_id))
    with pytest.raises(ConflictError, match="shredded"):
        cases.refer(
            node,
            officer.principal,
            sent.report_id,
            "focal_point",
            to_jurisdiction="FR",
            sealed_keys=[SealedKey(french.key_id, copy)],
        )


def test_open_cases_reopened_cases_and_jurisdictions_without_retention_are_kept(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    french = make_officer(node, "fabien", "FR")
    retention.set_retention(node, OPERATOR, "DE", 0)
    still_open = send_report(intake, "DE").report_id
    cases.move(node, officer.principal, still_open, "acknowledged")
    reopened = send_report(intake, "DE").report_id
    close(node, officer, reopened)
    cases.move(node, officer.principal, reopened, "triaged")
    kept_forever = send_report(intake, "FR").report_id
    close(node, french, kept_forever)
    later = utcnow() + dt.timedelta(days=3650)
    assert retention.due(node, later) == []
    assert retention.run(node, later).shredded == ()
    # Closed again: a new period starts from the new closing.
    cases.move(node, officer.principal, reopened, "closed")
    assert retention.run(node, later).shredded == (reopened,)


def test_setting_retention_is_checked_and_reserved_to_the_operator(node: Node) -> None:
    officer = make_officer(node, "olga", "DE")
    with pytest.raises(ForbiddenError):
        retention.set_retention(node, officer.principal, "DE", 30)
    with pytest.raises(InvalidInputError) as refused:
        retention.set_retention(node, OPERATOR, "DE", -1)
    assert refused.value.errors[0].loc == ("days",)
    with pytest.raises(NotFoundError):
        retention.set_retention(node, OPERATOR, "XX", 30)
    with pytest.raises(ForbiddenError):
        retention.shred_reports(node, officer.principal, [uuid.uuid4()])


def test_reports_stored_before_retention_are_wrapped_and_still_read(node: Node, intake: Intake) -> None:
    officer = make_officer(node, "olga", "DE")
    sent = send_report(intake, "DE")
    key = node.shred_keys.get(sent.report_id)
    assert key is not None
    # As a report stored before migration 0009: copies as sealed, no shredding key.
    with node.store.writing() as session:
        report = session.get(Report, sent.report_id)
        assert report is not None
        report.reporter_key = shred.unwrap(key, report.reporter_key, report.id, envelope.REPORTER)
        for copy in session.scalars(select(ReportKey).where(ReportKey.report_id == report.id)):
            copy.sealed = shred.unwrap(key, copy.sealed, report.id, str(copy.recipient_key_id))
        report.key_wrapped = False
    node.shred_keys.destroy([sent.report_id])
    read = report_reader.decrypt_thread(
        intake.officer_thread(officer.principal, sent.report_id)[0], officer.private_key
    )
    assert read.answers["what"] == {"description": CANARY}
    assert retention.wrap_existing(node, OPERATOR) == 1
    assert retention.wrap_existing(node, OPERATOR) == 0
    _, _, copies = backup(node, sent.report_id)
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_report_key(copies[officer.key_id], officer.private_key, sent.report_id, str(officer.key_id))
    read = report_reader.decrypt_thread(
        intake.officer_thread(officer.principal, sent.report_id)[0], officer.private_key
    )
    assert read.answers["what"] == {"description": CANARY}
    assert intake.reporter_thread(receipts.lookup_token(sent.secret)).report.id == sent.report_id


def test_keys_whose_report_never_arrived_are_forgotten_after_a_day(node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sent = send_report(intake, "DE")
    never_arrived = uuid.uuid4()
    node.shred_keys.get_or_make([never_arrived])
    assert retention.forget_orphan_keys(node) == 0  # younger than a day
    assert retention.forget_orphan_keys(node, utcnow() + dt.timedelta(days=2)) == 1
    assert node.shred_keys.get(never_arrived) is None
    assert node.shred_keys.get(sent.report_id) is not None


def test_a_report_sent_twice_keeps_its_first_key(node: Node) -> None:
    store = ShredKeys(node.settings.resolved_key_dir / "other")
    try:
        report_id = uuid.uuid4()
        first = store.get_or_make([report_id])[report_id]
        assert store.get_or_make([report_id])[report_id] == first
        assert store.destroy([report_id, uuid.uuid4()]) == 1
        assert store.get(report_id) is None
    finally:
        store.close()


def test_shredding_takes_the_evidence_with_it_and_the_custody_check_still_holds(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    other = make_case(node, intake, "otto")  # another case's evidence stays and is still checked
    files = [evidence.evidence_path(node.settings, case.shot.id)]
    assert all(path.exists() for path in files)
    assert retention.shred_reports(node, OPERATOR, [case.report_id]) == [case.report_id]
    assert not any(path.exists() for path in files)
    with node.store.reading() as session:
        left = set(session.scalars(select(EvidenceItem.id)))
        deleted = set(
            session.scalars(
                select(AuditEntry.entity_uuid).where(AuditEntry.entity == "evidence", AuditEntry.action == "delete")
            )
        )
    assert left == {other.item.id, other.shot.id}
    assert deleted == {case.item.id, case.shot.id}
    checked = evidence.verify(node, OPERATOR)
    assert checked.ok, checked.problems
    assert checked.items == 2
