"""Reading a report with a private key, in Python: what `tnrwatch reports decrypt` does on an officer's machine.

The same steps as the officer's page (static/staff-report.js): open the sealed report key, decrypt the answers and
each message, and decrypt each file in a stream to disk, checking its SHA-256 against the one in the envelope.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tnrwatch.crypto import envelope
from tnrwatch.services.reports import Intake, Thread, document_attachments


@dataclass(frozen=True)
class DecryptedMessage:
    id: uuid.UUID
    author: str
    sent_at: str
    document: Any


@dataclass(frozen=True)
class DecryptedThread:
    report_id: uuid.UUID
    report_key: bytes
    answers: Any
    messages: tuple[DecryptedMessage, ...]

    def files(self) -> Iterator[tuple[uuid.UUID | None, dict[str, Any]]]:
        """(message id or None for the report itself, attachment entry) for every file the thread names."""
        for entry in document_attachments(self.answers):
            yield None, entry
        for message in self.messages:
            for entry in document_attachments(message.document):
                yield message.id, entry


def decrypt_thread(thread: Thread, private_key: bytes) -> DecryptedThread:
    report_id = thread.report.id
    key = envelope.open_report_key(thread.sealed_key, private_key, report_id, thread.recipient)
    answers = envelope.decrypt_document(thread.answers, key, envelope.answers_context(report_id))
    messages = tuple(
        DecryptedMessage(
            m.id,
            m.author,
            m.sent_at.isoformat(),
            envelope.decrypt_document(m.ciphertext, key, envelope.message_context(report_id, m.id)),
        )
        for m in thread.messages
    )
    return DecryptedThread(report_id, key, answers, messages)


@dataclass(frozen=True)
class SavedFile:
    path: Path
    name: str
    size: int
    sha256: str
    verified: bool  # the SHA-256 equals the one the reporter's browser computed before encrypting


def save_file(intake: Intake, thread: DecryptedThread, entry: dict[str, Any], target: Path) -> SavedFile:
    """Decrypt one attachment into `target`, in constant memory."""
    attachment_id = uuid.UUID(str(entry["id"]))
    file_key = envelope.b64decode(str(entry["key"]), field="attachment key")
    ad = envelope.attachment_context(thread.report_id, attachment_id)
    source = intake.attachment_path(attachment_id)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as encrypted, target.open("xb") as plain:
        pieces = iter(lambda: encrypted.read(envelope.CHUNK_BYTES), b"")
        for chunk in envelope.decrypt_file(pieces, file_key, ad):
            digest.update(chunk)
            size += len(chunk)
            plain.write(chunk)
    sha256 = digest.hexdigest()
    return SavedFile(target, str(entry.get("name", "")), size, sha256, sha256 == entry.get("sha256"))
