"""The no-JavaScript mode: the server does in memory what the reporter's browser would do, then forgets.

Each file is encrypted chunk by chunk as it arrives (nothing in the clear touches the disk: no temporary file), the
answers are encrypted when the form ends, and the report key is sealed to the jurisdiction's keys and to the
receipt's key. The plaintext passes through this process's memory, which is why the page calls this mode weaker:
a compromised server could read what arrives this way. The same holds for reading and replying with the receipt.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select

from tnrwatch.crypto import envelope, receipts
from tnrwatch.errors import PayloadTooLargeError
from tnrwatch.services.reports import (
    Intake,
    SealedKey,
    Submission,
    hour,
)
from tnrwatch.store.models import Upload
from tnrwatch.store.types import utcnow


@dataclass
class PlainFile:
    """One file being sealed as it streams in."""

    intake: Intake
    report_id: uuid.UUID
    name: str
    media_type: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    key: bytes = field(default_factory=envelope.new_key)

    def __post_init__(self) -> None:
        self._sealer = envelope.FileSealer(self.key, envelope.attachment_context(self.report_id, self.id))
        self._path = self.intake.attachment_dir / f"{self.id}.part"
        self._handle: BinaryIO = self._path.open("xb")
        self._path.chmod(0o600)
        self.written = 0

    def write(self, data: bytes) -> None:
        if self._sealer.size + len(data) > self.intake.node.settings.max_attachment_mb * 1024 * 1024:
            raise PayloadTooLargeError(f"files may have at most {self.intake.node.settings.max_attachment_mb} MiB")
        self._emit(self._sealer.feed(data))

    def _emit(self, ciphertext: bytes) -> None:
        self._handle.write(ciphertext)
        self.written += len(ciphertext)

    def close(self) -> dict[str, Any]:
        """Finish the file; returns its entry for the encrypted answers."""
        self._emit(self._sealer.finish())
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._path.replace(self.intake.attachment_path(self.id))
        with self.intake.node.store.writing() as session:
            session.add(
                Upload(
                    id=self.id,
                    report_id=self.report_id,
                    size=self.written,
                    received=self.written,
                    started_at=hour(utcnow()),
                )
            )
        return {
            "id": str(self.id),
            "name": self.name,
            "type": self.media_type,
            "size": self._sealer.size,
            "sha256": self._sealer.sha256,
            "key": envelope.b64encode(self.key),
        }

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self._path.unlink(missing_ok=True)
        self.intake.attachment_path(self.id).unlink(missing_ok=True)


@dataclass
class PlainReport:
    """A report assembled by the server from a plain HTML form."""

    intake: Intake
    jurisdiction: str
    report_id: uuid.UUID = field(default_factory=uuid.uuid4)
    files: list[PlainFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.recipients = self.intake.recipients(self.jurisdiction)  # refuses a jurisdiction without keys

    def new_file(self, name: str, media_type: str) -> PlainFile:
        if len(self.files) >= self.intake.node.settings.max_attachments:
            raise PayloadTooLargeError(f"at most {self.intake.node.settings.max_attachments} files")
        plain_file = PlainFile(self.intake, self.report_id, name, media_type)
        self.files.append(plain_file)
        return plain_file

    def finish(self, answers: dict[str, Any], entries: list[dict[str, Any]], *, urgent: bool) -> tuple[str, Any]:
        """Encrypt and store the report; returns (receipt text, acknowledgement). Only the caller shows the receipt."""
        receipt_text, secret = receipts.new_receipt()
        report_key = envelope.new_key()
        document = {**answers, "attachments": entries}
        reporter_public, _ = receipts.reporter_key_pair(secret)
        submission = Submission(
            report_id=self.report_id,
            jurisdiction=self.jurisdiction,
            urgent=urgent,
            lookup=receipts.lookup_token(secret),
            answers=envelope.encrypt_document(document, report_key, envelope.answers_context(self.report_id)),
            keys=[
                SealedKey(
                    key.id,
                    envelope.seal_report_key(report_key, key.public_key, self.report_id, str(key.id)),
                )
                for key in self.recipients
            ],
            reporter_key=envelope.seal_report_key(report_key, reporter_public, self.report_id, envelope.REPORTER),
            attachments=[uuid.UUID(entry["id"]) for entry in entries],
            pow=None,
        )
        acknowledgement = self.intake.submit(submission, mode="plain")
        return receipt_text, acknowledgement

    def discard(self) -> None:
        for plain_file in self.files:
            plain_file.discard()
        if self.files:
            with self.intake.node.store.writing() as session:
                for upload in session.scalars(select(Upload).where(Upload.report_id == self.report_id)):
                    session.delete(upload)


@dataclass(frozen=True)
class PlainMessage:
    id: uuid.UUID
    author: str
    sent_at: Any
    text: str
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class PlainThread:
    report_id: uuid.UUID
    received_at: Any
    acknowledge_by: Any
    status: str
    answers: dict[str, Any]
    messages: list[PlainMessage]


def open_thread(intake: Intake, receipt_text: str) -> tuple[PlainThread, bytes]:
    """Decrypt a report's thread with its receipt (the no-JavaScript follow-up). Returns the thread and the report
    key, which the caller uses to encrypt a reply and then drops."""
    secret = receipts.decode(receipt_text)
    thread = intake.reporter_thread(receipts.lookup_token(secret))
    _, private = receipts.reporter_key_pair(secret)
    report_id = thread.report.id
    key = envelope.open_report_key(thread.sealed_key, private, report_id, envelope.REPORTER)
    answers = envelope.decrypt_document(thread.answers, key, envelope.answers_context(report_id))
    messages = []
    for message in thread.messages:
        body = envelope.decrypt_document(message.ciphertext, key, envelope.message_context(report_id, message.id))
        text = body.get("text", "") if isinstance(body, dict) else ""
        attachments = body.get("attachments", []) if isinstance(body, dict) else []
        messages.append(PlainMessage(message.id, message.author, message.sent_at, str(text), list(attachments)))
    plain = PlainThread(
        report_id,
        thread.report.received_at,
        thread.report.acknowledge_by,
        thread.report.status,
        answers if isinstance(answers, dict) else {},
        messages,
    )
    return plain, key


def send_message(intake: Intake, receipt_text: str, text: str) -> None:
    secret = receipts.decode(receipt_text)
    lookup = receipts.lookup_token(secret)
    thread = intake.reporter_thread(lookup)
    _, private = receipts.reporter_key_pair(secret)
    key = envelope.open_report_key(thread.sealed_key, private, thread.report.id, envelope.REPORTER)
    message_id = uuid.uuid4()
    document = {"v": 1, "kind": "message", "text": text, "attachments": []}
    ciphertext = envelope.encrypt_document(document, key, envelope.message_context(thread.report.id, message_id))
    intake.add_message(lookup=lookup, message_id=message_id, ciphertext=ciphertext, plain=True)
