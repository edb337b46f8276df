"""Intake, follow-up and officers' access, on both databases, with real crypto end to end."""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from tnrwatch.crypto import envelope, keywrap, pow, receipts
from tnrwatch.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    TooManyRequestsError,
)
from tnrwatch.services import accounts, cases, plain_reports, recipient_keys, report_reader
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import (
    Intake,
    KeysChangedError,
    ProofOfWork,
    SealedKey,
    Submission,
    UploadOffsetError,
    operator_thread,
)
from tnrwatch.settings import Settings
from tnrwatch.store.models import Report

PASSPHRASE = "correct horse battery staple"
CANARY = "CANARY-7f3e-رسالة-тест"


@dataclass
class Officer:
    principal: Principal
    key_id: uuid.UUID
    public_key: bytes
    private_key: bytes


def make_officer(node: Node, username: str, jurisdiction: str) -> Officer:
    accounts.add_account(node, Principal.operator(), username, "officer", jurisdiction=jurisdiction)
    public, private = envelope.new_key_pair()
    key_id = uuid.uuid4()
    wrapped = keywrap.wrap(private, PASSPHRASE, key_id, public, "interactive")
    recipient_keys.add_key(
        node,
        Principal.operator(),
        jurisdiction=jurisdiction,
        username=username,
        public_key=public,
        wrapped_private_key=wrapped.to_json(),
        key_id=key_id,
    )
    principal = Principal(accounts_id(node, username), username, "officer", jurisdiction)
    return Officer(principal, key_id, public, private)


def accounts_id(node: Node, username: str) -> int:
    from tnrwatch.store.models import Account

    with node.store.reading() as session:
        account_id = session.scalar(select(Account.id).where(Account.username == username))
    assert account_id is not None
    return account_id


def solved(intake: Intake) -> ProofOfWork:
    challenge = intake.challenge()
    return ProofOfWork(challenge.token, pow.solve(challenge.token))


@dataclass
class Sent:
    report_id: uuid.UUID
    receipt: str
    secret: bytes
    report_key: bytes


def send_report(
    intake: Intake,
    jurisdiction: str,
    answers: dict[str, object] | None = None,
    files: list[bytes] = (),  # type: ignore[assignment]
    urgent: bool = False,
) -> Sent:
    report_id = uuid.uuid4()
    receipt, secret = receipts.new_receipt()
    report_key = envelope.new_key()
    entries = []
    attachment_ids = []
    for data in files:
        attachment_id = uuid.uuid4()
        file_key = envelope.new_key()
        ciphertext = b"".join(
            envelope.encrypt_file(io.BytesIO(data), file_key, envelope.attachment_context(report_id, attachment_id))
        )
        intake.start_upload(report_id, attachment_id, len(ciphertext), solved(intake))
        for offset in range(0, len(ciphertext), 700_000):
            intake.append_upload(attachment_id, offset, ciphertext[offset : offset + 700_000])
        import hashlib

        entries.append(
            {
                "id": str(attachment_id),
                "name": "evidence.bin",
                "type": "application/octet-stream",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "key": envelope.b64encode(file_key),
            }
        )
        attachment_ids.append(attachment_id)
    document = {"v": 1, "kind": "report", "what": {"description": CANARY}, **(answers or {}), "attachments": entries}
    reporter_public, _ = receipts.reporter_key_pair(secret)
    recipients = intake.recipients(jurisdiction)
    intake.submit(
        Submission(
            report_id=report_id,
            jurisdiction=jurisdiction,
            urgent=urgent,
            lookup=receipts.lookup_token(secret),
            answers=envelope.encrypt_document(document, report_key, envelope.answers_context(report_id)),
            keys=[
                SealedKey(k.id, envelope.seal_report_key(report_key, k.public_key, report_id, str(k.id)))
                for k in recipients
            ],
            reporter_key=envelope.seal_report_key(report_key, reporter_public, report_id, envelope.REPORTER),
            attachments=attachment_ids,
            pow=solved(intake),
        )
    )
    return Sent(report_id, receipt, secret, report_key)


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def test_a_report_reaches_every_officer_of_its_jurisdiction_and_only_them(node: Node, intake: Intake) -> None:
    alice = make_officer(node, "alice", "DE")
    bob = make_officer(node, "bob", "DE")
    claire = make_officer(node, "claire", "FR")
    data = os.urandom(1024 * 1024 + 5)
    sent = send_report(intake, "DE", files=[data], urgent=True)

    for officer in (alice, bob):
        thread, key = intake.officer_thread(officer.principal, sent.report_id)
        assert key is not None
        assert key.id == officer.key_id
        decrypted = report_reader.decrypt_thread(thread, officer.private_key)
        assert decrypted.answers["what"]["description"] == CANARY
    with pytest.raises(NotFoundError):
        intake.officer_thread(claire.principal, sent.report_id)
    (item,) = cases.inbox(node, alice.principal).items
    assert (item.id, item.files, item.messages, item.mode) == (sent.report_id, 1, 0, "browser")
    assert item.size > len(data)  # the ciphertext, the file included
    assert cases.inbox(node, claire.principal).items == ()
    summary = intake.officer_thread(alice.principal, sent.report_id)[0].report
    assert summary.urgent
    assert summary.attachments == 1
    assert summary.received_at.minute == 0
    assert summary.received_at.second == 0
    assert (summary.acknowledge_by - summary.received_at).days == 7

    thread = operator_thread(intake, sent.report_id, alice.key_id)
    decrypted = report_reader.decrypt_thread(thread, alice.private_key)
    ((_, entry),) = list(decrypted.files())
    saved = report_reader.save_file(intake, decrypted, entry, node.settings.home / "out.bin")
    assert saved.verified
    assert saved.path.read_bytes() == data


def test_the_reporter_follows_up_and_both_sides_read_the_thread(node: Node, intake: Intake) -> None:
    alice = make_officer(node, "alice", "DE")
    sent = send_report(intake, "DE")
    lookup = receipts.lookup_token(receipts.decode(sent.receipt))
    _, reporter_private = receipts.reporter_key_pair(sent.secret)

    reply_id = uuid.uuid4()
    reply = {"v": 1, "kind": "message", "text": "We received it.", "attachments": []}
    intake.add_message(
        report_id=sent.report_id,
        principal=alice.principal,
        message_id=reply_id,
        ciphertext=envelope.encrypt_document(
            reply, sent.report_key, envelope.message_context(sent.report_id, reply_id)
        ),
    )
    thread = intake.reporter_thread(lookup)
    key = envelope.open_report_key(thread.sealed_key, reporter_private, sent.report_id, envelope.REPORTER)
    (message,) = thread.messages
    assert message.author == "officer"
    assert (
        envelope.decrypt_document(message.ciphertext, key, envelope.message_context(sent.report_id, reply_id)) == reply
    )

    answer_id = uuid.uuid4()
    answer = {"v": 1, "kind": "message", "text": "Thank you", "attachments": []}
    intake.add_message(
        lookup=lookup,
        message_id=answer_id,
        ciphertext=envelope.encrypt_document(answer, key, envelope.message_context(sent.report_id, answer_id)),
        proof=solved(intake),
    )
    officer_view = report_reader.decrypt_thread(
        intake.officer_thread(alice.principal, sent.report_id)[0], alice.private_key
    )
    assert [m.document["text"] for m in officer_view.messages] == ["We received it.", "Thank you"]

    with pytest.raises(NotFoundError):
        intake.reporter_thread(receipts.lookup_token(receipts.new_receipt()[1]))


def test_ciphertext_moved_to_another_report_does_not_open(node: Node, intake: Intake) -> None:
    alice = make_officer(node, "alice", "DE")
    first, second = send_report(intake, "DE"), send_report(intake, "DE")
    with node.store.writing() as session:
        one, two = session.get(Report, first.report_id), session.get(Report, second.report_id)
        assert one is not None
        assert two is not None
        two.answers = one.answers
    thread, _ = intake.officer_thread(alice.principal, second.report_id)
    with pytest.raises(envelope.EnvelopeError):
        report_reader.decrypt_thread(thread, alice.private_key)


def test_bad_input_is_refused_and_nothing_is_stored(node: Node, intake: Intake) -> None:
    make_officer(node, "alice", "DE")
    with pytest.raises(ConflictError, match="no active key"):
        intake.recipients("FR")
    with pytest.raises(NotFoundError):
        intake.recipients("XX")
    report_id = uuid.uuid4()
    good = send_report(intake, "DE")
    recipients = intake.recipients("DE")
    base = Submission(
        report_id=report_id,
        jurisdiction="DE",
        urgent=False,
        lookup=os.urandom(32),
        answers=os.urandom(24 + 1024 + 16),
        keys=[
            SealedKey(
                recipients[0].id,
                os.urandom(48 + 32 + len(envelope.report_key_context(report_id, str(recipients[0].id)))),
            )
        ],
        reporter_key=os.urandom(48 + 32 + len(envelope.report_key_context(report_id, "reporter"))),
        attachments=[],
        pow=solved(intake),
    )
    from dataclasses import replace

    with pytest.raises(InvalidInputError, match="malformed"):
        intake.submit(replace(base, answers=b"short"))
    with pytest.raises(InvalidInputError, match="malformed"):
        intake.submit(replace(base, reporter_key=b"x" * 10))
    with pytest.raises(KeysChangedError):
        intake.submit(replace(base, keys=[]))
    with pytest.raises(InvalidInputError, match="proof of work"):
        intake.submit(
            replace(base, pow=ProofOfWork(base.pow.token, pow.failing_counter(base.pow.token)) if base.pow else None)
        )
    with pytest.raises(InvalidInputError, match="not uploaded"):
        intake.submit(replace(base, pow=solved(intake), attachments=[uuid.uuid4()]))
    with pytest.raises(ConflictError, match="received already"):
        intake.submit(replace(base, report_id=good.report_id, pow=solved(intake)))
    with node.store.reading() as session:
        assert session.scalars(select(Report.id)).all() == [good.report_id]
    spent = solved(intake)
    intake.submit(replace(base, pow=spent))
    with pytest.raises(ConflictError, match="used already"):
        intake.submit(replace(base, report_id=uuid.uuid4(), lookup=os.urandom(32), pow=spent))


def test_uploads_resume_and_refuse_replays_and_oversize(node: Node, intake: Intake) -> None:
    report_id, attachment_id = uuid.uuid4(), uuid.uuid4()
    intake.start_upload(report_id, attachment_id, 100, solved(intake))
    assert intake.append_upload(attachment_id, 0, b"a" * 60) == 60
    with pytest.raises(UploadOffsetError) as stale:
        intake.append_upload(attachment_id, 0, b"a" * 60)  # the same part again, e.g. after a lost answer
    assert stale.value.received == 60
    with pytest.raises(InvalidInputError):
        intake.append_upload(attachment_id, 60, b"b" * 41)
    assert intake.append_upload(attachment_id, 60, b"b" * 40) == 100
    assert intake.attachment_path(attachment_id).read_bytes() == b"a" * 60 + b"b" * 40
    with pytest.raises(ConflictError):
        intake.start_upload(report_id, attachment_id, 100, solved(intake))
    with pytest.raises(PayloadTooLargeError):
        intake.start_upload(report_id, uuid.uuid4(), intake.max_file_ciphertext + 1, solved(intake))


def test_hourly_ceilings(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        report_pow_bits=0,
        report_ceiling_per_jurisdiction_per_hour=2,
        key_wrap_strength="interactive",
    )
    node = Node.open(settings)
    try:
        intake = Intake(node)
        make_officer(node, "alice", "DE")
        send_report(intake, "DE")
        send_report(intake, "DE")
        with pytest.raises(TooManyRequestsError):
            send_report(intake, "DE")
    finally:
        node.close()


def test_rotation_grant_and_revocation(node: Node, intake: Intake) -> None:
    alice = make_officer(node, "alice", "DE")
    sent = send_report(intake, "DE")
    bob = make_officer(node, "bob", "DE")  # joins later: holds nothing yet
    assert intake.officer_thread(bob.principal, sent.report_id)[1] is None
    with pytest.raises(ConflictError, match="with this key only"):
        recipient_keys.revoke(node, Principal.operator(), alice.key_id)
    assert (
        recipient_keys.reseal(
            node,
            Principal.operator(),
            from_key=alice.key_id,
            private_key=alice.private_key,
            to_key=bob.key_id,
            retire_source=False,
        )
        == 1
    )
    thread, _ = intake.officer_thread(bob.principal, sent.report_id)
    assert report_reader.decrypt_thread(thread, bob.private_key).answers["what"]["description"] == CANARY

    new_public, new_private = envelope.new_key_pair()
    new_id = uuid.uuid4()
    recipient_keys.add_key(
        node,
        Principal.operator(),
        jurisdiction="DE",
        username="alice",
        public_key=new_public,
        wrapped_private_key=keywrap.wrap(new_private, PASSPHRASE, new_id, new_public, "interactive").to_json(),
        key_id=new_id,
    )
    recipient_keys.reseal(
        node,
        Principal.operator(),
        from_key=alice.key_id,
        private_key=alice.private_key,
        to_key=new_id,
        retire_source=True,
    )
    thread = operator_thread(intake, sent.report_id, new_id)
    assert report_reader.decrypt_thread(thread, new_private).answers["what"]["description"] == CANARY
    with pytest.raises(NotFoundError):
        operator_thread(intake, sent.report_id, alice.key_id)
    assert {k.id: k.status for k in recipient_keys.list_keys(node, "DE")}[alice.key_id] == "retired"

    assert recipient_keys.revoke(node, Principal.operator(), bob.key_id) == 1
    with pytest.raises(NotFoundError):
        operator_thread(intake, sent.report_id, bob.key_id)
    assert {r.id for r in intake.recipients("DE")} == {new_id}


def test_the_no_javascript_mode_seals_on_arrival(node: Node, intake: Intake) -> None:
    alice = make_officer(node, "alice", "DE")
    report = plain_reports.PlainReport(intake, "DE")
    file = report.new_file("photo.jpg", "image/jpeg")
    data = os.urandom(3 * 1024 * 1024 + 17)
    for offset in range(0, len(data), 65536):
        file.write(data[offset : offset + 65536])
    entry = file.close()
    receipt, _ = report.finish({"v": 1, "kind": "report", "what": {"description": CANARY}}, [entry], urgent=False)
    for path in node.settings.resolved_attachment_dir.iterdir():
        assert data[:4096] not in path.read_bytes()
    thread, _key = plain_reports.open_thread(intake, receipt)
    assert thread.answers["what"]["description"] == CANARY
    plain_reports.send_message(intake, receipt, "more details")
    decrypted = report_reader.decrypt_thread(
        intake.officer_thread(alice.principal, thread.report_id)[0], alice.private_key
    )
    assert decrypted.messages[0].document["text"] == "more details"
    ((_, stored),) = list(decrypted.files())
    assert report_reader.save_file(intake, decrypted, stored, node.settings.home / "f").verified
