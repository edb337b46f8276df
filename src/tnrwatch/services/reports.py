"""Secure reporting: intake of sealed reports, their files and messages, the reporter's follow-up, and officers'
access to the ciphertext.

The server never holds a key that opens a report (docs/report-format.md). What it checks is the shape: sizes,
padding, that every active recipient key of the jurisdiction got a sealed copy, that each file was uploaded whole, a
spent-once proof of work, and the hourly ceilings. A report is acknowledged only after its transaction commits and
its files were flushed to disk, so an acknowledged report survives a crash. Reports that arrive together are checked
and written in one transaction (`submit_many`; the web intake gathers them): a transaction per report, taken by
threads queuing on SQLite's write lock, managed ~60 reports/s (docs/benchmarks.md, "Report intake"). Stored times are
rounded down to the hour. Reporter actions are not written to the change log: its exact timestamps would undo the
rounding.

The no-JavaScript mode (`seal_plain_report`) does in memory what the browser does, then forgets the plaintext.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tnrwatch.crypto import envelope, pow, receipts, shred
from tnrwatch.crypto.intake import IntakeKeys
from tnrwatch.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    TnrwatchError,
    TooManyRequestsError,
)
from tnrwatch.services import notifications
from tnrwatch.services.changes import record_access, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal, require
from tnrwatch.settings import Settings
from tnrwatch.store.models import (
    Attachment,
    Base,
    Jurisdiction,
    RecipientKey,
    Referral,
    Report,
    ReportHourCount,
    ReportKey,
    ReportMessage,
    SpentChallenge,
    Upload,
)
from tnrwatch.store.types import utcnow

MAX_DOCUMENT_BYTES = 1024 * 1024  # answers or one message, encrypted
MAX_PART_BYTES = 4 * 1024 * 1024  # one PUT of an upload
UPLOAD_TTL = dt.timedelta(hours=24)
MAX_GROUP = 64  # reports stored in one transaction at most
PURGE_SECONDS = 60.0  # how often expired proofs of work are forgotten; verify() refuses them anyway
_MIN_DOCUMENT = envelope.NONCE_BYTES + envelope.PAD_BLOCK + envelope.AEAD_ABYTES


def hour(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ProofOfWork:
    token: str
    counter: int


@dataclass(frozen=True)
class SealedKey:
    recipient: uuid.UUID
    sealed: bytes


@dataclass(frozen=True)
class Submission:
    report_id: uuid.UUID
    jurisdiction: str
    urgent: bool
    lookup: bytes
    answers: bytes
    keys: Sequence[SealedKey]
    reporter_key: bytes
    attachments: Sequence[uuid.UUID]
    pow: ProofOfWork | None  # None only for the no-JavaScript form, which cannot compute one


@dataclass(frozen=True)
class Acknowledgement:
    report_id: uuid.UUID
    received_at: dt.datetime
    acknowledge_by: dt.datetime


@dataclass(frozen=True)
class RecipientOut:
    id: uuid.UUID
    public_key: bytes


@dataclass(frozen=True)
class AttachmentOut:
    id: uuid.UUID
    size: int
    message_id: uuid.UUID | None


@dataclass(frozen=True)
class MessageOut:
    id: uuid.UUID
    author: str
    sent_at: dt.datetime
    ciphertext: bytes
    attachments: tuple[AttachmentOut, ...]


@dataclass(frozen=True)
class ReportSummary:
    id: uuid.UUID
    jurisdiction: str
    received_at: dt.datetime
    acknowledge_by: dt.datetime
    updated_at: dt.datetime
    status: str
    urgent: bool
    mode: str
    size: int
    messages: int
    attachments: int
    shredded_at: dt.datetime | None = None  # when retention destroyed its content (services/retention.py)


@dataclass(frozen=True)
class Thread:
    """What a reporter (with the receipt) or an officer (of the jurisdiction) gets: metadata and ciphertext."""

    report: ReportSummary
    answers: bytes
    sealed_key: bytes  # for the reporter: sealed to the reporter's key; for an officer: to the officer's key
    recipient: str  # the recipient name the sealed key is bound to
    attachments: tuple[AttachmentOut, ...]
    messages: tuple[MessageOut, ...]


@dataclass
class Intake:
    """Per-process intake state: the node's intake secrets, one lock per upload being written, and one lock for
    writing reports."""

    node: Node
    keys: IntakeKeys = field(init=False)
    _upload_locks: dict[uuid.UUID, threading.Lock] = field(default_factory=dict, init=False)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock, init=False)
    _report_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _purged_at: float = field(default=float("-inf"), init=False)

    def __post_init__(self) -> None:
        self.keys = IntakeKeys.open(self.node.settings.resolved_key_dir)
        self.attachment_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    @property
    def attachment_dir(self) -> Path:
        return self.node.settings.resolved_attachment_dir

    @property
    def max_file_ciphertext(self) -> int:
        return envelope.encrypted_size(self.node.settings.max_attachment_mb * 1024 * 1024)

    def attachment_path(self, attachment_id: uuid.UUID) -> Path:
        return self.attachment_dir / str(attachment_id)

    def _part_path(self, attachment_id: uuid.UUID) -> Path:
        return self.attachment_dir / f"{attachment_id}.part"

    def lookup_hash(self, lookup: bytes) -> str:
        if len(lookup) != 32:
            raise InvalidInputError("the lookup token is malformed", [FieldError(("lookup",), "expected 32 bytes")])
        return receipts.lookup_hash(self.keys.receipt_pepper, lookup)

    # -- proof of work ------------------------------------------------------------------------------------------------

    def challenge(self) -> pow.Challenge:
        return pow.issue(self.keys.pow_key, self.node.settings.report_pow_bits)

    def _verify(self, proof: ProofOfWork | None) -> pow.Challenge:
        """The challenge a proof solves (not spent yet); InvalidInputError when there is no proof or it is wrong."""
        if proof is None:
            raise InvalidInputError("a proof of work is required", [FieldError(("pow",), "missing")])
        try:
            return pow.verify(self.keys.pow_key, proof.token, proof.counter, self.node.settings.report_pow_bits)
        except pow.ProofOfWorkError as exc:
            raise InvalidInputError("the proof of work is not valid", [FieldError(("pow",), str(exc))]) from None

    def _forget_expired_challenges(self, session: Session) -> None:
        """Delete spent challenges past their expiry, at most once per PURGE_SECONDS: keeping them longer is
        harmless, since `pow.verify` refuses an expired challenge before the store is asked."""
        if time.monotonic() - self._purged_at < PURGE_SECONDS:
            return
        self._purged_at = time.monotonic()
        session.execute(delete(SpentChallenge).where(SpentChallenge.expires_at < utcnow()))
        session.execute(delete(ReportHourCount).where(ReportHourCount.hour < hour(utcnow()) - dt.timedelta(days=1)))

    def _spend(self, session: Session, proof: ProofOfWork | None) -> None:
        challenge = self._verify(proof)
        self._forget_expired_challenges(session)
        if session.get(SpentChallenge, challenge.nonce) is not None:
            raise ConflictError("this proof of work was used already")
        session.add(SpentChallenge(nonce=challenge.nonce, expires_at=_remembered_until(challenge)))

    # -- jurisdictions and their keys ---------------------------------------------------------------------------------

    def recipients(self, jurisdiction: str) -> list[RecipientOut]:
        """The active keys of a jurisdiction; ConflictError (with a message to show) when it has none."""
        with self.node.store.reading() as session:
            found = session.get(Jurisdiction, jurisdiction)
            if found is None:
                raise NotFoundError(f"no jurisdiction {jurisdiction!r}")
            keys = session.execute(
                select(RecipientKey.id, RecipientKey.public_key)
                .where(RecipientKey.jurisdiction_code == jurisdiction, RecipientKey.status == "active")
                .order_by(RecipientKey.id)
            ).all()
        if not keys:
            raise ConflictError(f"{found.name} cannot receive reports yet: it has no active key")
        return [RecipientOut(key_id, public_key) for key_id, public_key in keys]

    # -- uploads ------------------------------------------------------------------------------------------------------

    def start_upload(
        self, report_id: uuid.UUID, attachment_id: uuid.UUID, size: int, proof: ProofOfWork | None
    ) -> None:
        if not size >= envelope.STREAM_HEADER_BYTES + envelope.STREAM_ABYTES:
            raise InvalidInputError("the file size is impossible", [FieldError(("size",), "too small")])
        if size > self.max_file_ciphertext:
            raise PayloadTooLargeError(f"files may have at most {self.node.settings.max_attachment_mb} MiB")
        now = utcnow()
        self.remove_stale_uploads()
        try:
            with self.node.store.writing() as session:
                self._spend(session, proof)
                if session.get(Upload, attachment_id) or session.get(Attachment, attachment_id):
                    raise ConflictError("this attachment id is taken")
                session.add(Upload(id=attachment_id, report_id=report_id, size=size, received=0, started_at=hour(now)))
        except IntegrityError:
            raise ConflictError("this attachment id is taken") from None
        self._part_path(attachment_id).unlink(missing_ok=True)
        self._part_path(attachment_id).touch(mode=0o600)

    def upload_status(self, attachment_id: uuid.UUID) -> tuple[int, int]:
        """(received, size) of an upload in progress or finished."""
        with self.node.store.reading() as session:
            upload = session.get(Upload, attachment_id)
            if upload is None:
                raise NotFoundError("no such upload")
            return upload.received, upload.size

    def _lock(self, attachment_id: uuid.UUID) -> threading.Lock:
        with self._locks_guard:
            return self._upload_locks.setdefault(attachment_id, threading.Lock())

    def append_upload(self, attachment_id: uuid.UUID, offset: int, data: bytes) -> int:
        """Write one part at `offset`, which must equal what was received so far; returns the new total.

        A part resent after a dropped connection answers ConflictError carrying the received count, so the
        browser resumes from there. The finished file is flushed to disk and renamed to its final name."""
        if len(data) > MAX_PART_BYTES:
            raise PayloadTooLargeError(f"send at most {MAX_PART_BYTES} bytes per part")
        with self._lock(attachment_id):
            received, size = self.upload_status(attachment_id)
            if offset != received:
                raise UploadOffsetError(received)
            if received + len(data) > size:
                raise InvalidInputError("more bytes than announced", [FieldError(("body",), "exceeds the size")])
            path = self._part_path(attachment_id)
            with path.open("r+b") as handle:
                handle.truncate(offset)
                handle.seek(offset)
                handle.write(data)
                if received + len(data) == size:
                    handle.flush()
                    os.fsync(handle.fileno())
            total = received + len(data)
            if total == size:
                path.replace(self.attachment_path(attachment_id))
            with self.node.store.writing() as session:
                session.execute(update(Upload).where(Upload.id == attachment_id).values(received=total))
            return total

    def _check_uploads(
        self, session: Session | Connection, report_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """The ciphertext size of each listed upload; InvalidInputError unless every one was uploaded whole for
        this report. Reads only: `_move_uploads` turns them into attachments."""
        if len(ids) > self.node.settings.max_attachments:
            raise InvalidInputError(
                "too many attachments",
                [FieldError(("attachments",), f"at most {self.node.settings.max_attachments}")],
            )
        if len(set(ids)) != len(ids):
            raise InvalidInputError("an attachment is listed twice", [FieldError(("attachments",), "duplicate")])
        if not ids:
            return {}
        found = {
            upload_id: (owner, size, received)
            for upload_id, owner, size, received in session.execute(
                select(Upload.id, Upload.report_id, Upload.size, Upload.received).where(Upload.id.in_(ids))
            )
        }
        for index, attachment_id in enumerate(ids):
            owner, size, received = found.get(attachment_id, (None, 0, -1))
            if owner != report_id or received != size:
                raise InvalidInputError(
                    "an attachment was not uploaded completely",
                    [FieldError(("attachments", index), "not uploaded whole for this report")],
                )
        return {attachment_id: found[attachment_id][1] for attachment_id in ids}

    @staticmethod
    def _move_uploads(
        session: Session | Connection, report_id: uuid.UUID, sizes: dict[uuid.UUID, int], message_id: uuid.UUID | None
    ) -> None:
        # Statements, not ORM objects: a report refused inside its savepoint must leave nothing behind (submit).
        if sizes:
            session.execute(delete(Upload).where(Upload.id.in_(list(sizes))))
            session.execute(
                _INSERT_ATTACHMENT,
                [
                    {"id": attachment_id, "report_id": report_id, "message_id": message_id, "size": size}
                    for attachment_id, size in sizes.items()
                ],
            )

    def _claim_uploads(
        self, session: Session, report_id: uuid.UUID, ids: Sequence[uuid.UUID], message_id: uuid.UUID | None
    ) -> int:
        sizes = self._check_uploads(session, report_id, ids)
        self._move_uploads(session, report_id, sizes, message_id)
        return sum(sizes.values())

    # -- reports ------------------------------------------------------------------------------------------------------

    def submit(self, submission: Submission, *, mode: str = "browser") -> Acknowledgement:
        """Store a sealed report; return only after the transaction holding it has committed."""
        (outcome,) = self.submit_many([submission], mode=mode)
        if isinstance(outcome, TnrwatchError):
            raise outcome
        return outcome

    def submit_many(
        self, submissions: Sequence[Submission], *, mode: str = "browser"
    ) -> list[Acknowledgement | TnrwatchError]:
        """Store reports that arrived together (the web intake gathers them) in one transaction: for each, in order,
        its acknowledgement or the error that refused it, once that transaction has committed. A refused report
        leaves the others alone; any other error (the database failed) is raised, and then none is stored.

        One commit per group instead of one per report is what lets a busy node keep up (docs/benchmarks.md,
        "Report intake"). The checks that need no database (sizes, the proof of work's signature and solution) come
        first, outside the transaction."""
        outcomes: list[Acknowledgement | TnrwatchError | None] = []
        group: list[_PendingReport] = []
        for submission in submissions:
            try:
                _check_envelope(submission)
                lookup_hash = self.lookup_hash(submission.lookup)
                challenge = None
                if submission.pow is not None or mode == "browser":
                    challenge = self._verify(submission.pow)
            except TnrwatchError as exc:
                outcomes.append(exc)
                continue
            group.append(_PendingReport(submission, mode, lookup_hash, challenge))
            outcomes.append(None)
        written: list[Acknowledgement | TnrwatchError] = []
        # One group at a time per process: threads that each began a write transaction would queue on SQLite's
        # write lock, whose busy handler sleeps between tries (~60 reports/s when every report was its own).
        with self._report_lock:
            for start in range(0, len(group), MAX_GROUP):
                chunk = group[start : start + MAX_GROUP]
                try:
                    written += self._write_group(chunk, savepoints=False)
                except IntegrityError:
                    # Another process stored the same report, receipt or proof of work between our reads and our
                    # writes (PostgreSQL; SQLite's write lock rules it out): again, each report in a savepoint.
                    written += self._write_group(chunk, savepoints=True)
        stored = iter(written)
        return [next(stored) if outcome is None else outcome for outcome in outcomes]

    def _write_group(self, group: list[_PendingReport], *, savepoints: bool) -> list[Acknowledgement | TnrwatchError]:
        """Check every report of the group against the database and the reports before it, then write the accepted
        ones: together (one statement per table for the group), or each in a savepoint that a unique key may refuse.

        Statements on the session's connection, not ORM objects: the unit of work cost more than SQLite's own work
        for a report."""
        outcomes: list[Acknowledgement | TnrwatchError] = []
        accepted: list[tuple[_PendingReport, dict[uuid.UUID, int]]] = []
        # The shredding keys are committed first, in their own store: a report row never exists without its key.
        shred_keys = self.node.shred_keys.get_or_make([pending.submission.report_id for pending in group])
        with self.node.store.writing() as session:
            self._forget_expired_challenges(session)
            connection = session.connection()
            shared = _GroupState(connection, self.node.settings, utcnow(), group)
            for pending in group:
                try:
                    shared.check(pending)
                    files = self._check_uploads(
                        connection, pending.submission.report_id, pending.submission.attachments
                    )
                except TnrwatchError as exc:
                    outcomes.append(exc)
                    continue
                if savepoints:
                    try:
                        with connection.begin_nested():
                            _insert_reports(connection, shared, [(pending, files)], shred_keys)
                    except IntegrityError:
                        outcomes.append(ConflictError("this report or its proof of work was received already"))
                        continue
                else:
                    accepted.append((pending, files))
                shared.admit(pending)
                outcomes.append(Acknowledgement(pending.submission.report_id, shared.hour, shared.acknowledge_by))
            if accepted:
                _insert_reports(connection, shared, accepted, shred_keys)
        return outcomes

    # -- the reporter's follow-up -------------------------------------------------------------------------------------

    def _report_by_lookup(self, session: Session, lookup: bytes) -> Report:
        report = session.scalar(select(Report).where(Report.lookup_hash == self.lookup_hash(lookup)))
        if report is None:
            raise NotFoundError("no report has this receipt")
        return report

    def reporter_thread(self, lookup: bytes) -> Thread:
        with self.node.store.reading() as session:
            report = self._report_by_lookup(session, lookup)
            own_copy = self.opened_copy(report, report.reporter_key, envelope.REPORTER)
            return _thread(session, report, own_copy, envelope.REPORTER)

    def add_message(
        self,
        *,
        report_id: uuid.UUID | None = None,
        lookup: bytes | None = None,
        principal: Principal | None = None,
        message_id: uuid.UUID,
        ciphertext: bytes,
        attachments: Sequence[uuid.UUID] = (),
        proof: ProofOfWork | None = None,
        plain: bool = False,
    ) -> MessageOut:
        """A message from the reporter (found by `lookup`, with a proof of work unless it comes through the
        no-JavaScript form) or an officer (`principal`)."""
        errors = _check_document(ciphertext, ("ciphertext",))
        if errors:
            raise InvalidInputError("the message is malformed", errors)
        sent_at = hour(utcnow())
        try:
            with self.node.store.writing() as session:
                if principal is None:
                    if lookup is None:
                        raise InvalidInputError("a receipt is required", [FieldError(("lookup",), "missing")])
                    if not plain:
                        self._spend(session, proof)
                    report = self._report_by_lookup(session, lookup)
                    author, account_id = "reporter", None
                else:
                    require(principal, "report:reply")
                    report = visible_report(session, principal, report_id)
                    author, account_id = "officer", principal.account_id
                if session.scalar(select(ReportMessage.seq).where(ReportMessage.id == message_id)) is not None:
                    raise ConflictError("this message was received already")
                session.add(
                    ReportMessage(
                        id=message_id,
                        report_id=report.id,
                        author=author,
                        account_id=account_id,
                        sent_at=sent_at,
                        ciphertext=ciphertext,
                    )
                )
                files = self._claim_uploads(session, report.id, attachments, message_id)
                report.size += len(ciphertext) + files
                report.updated_at = sent_at
                if principal is not None:
                    record_change(session, principal, "reply", "report", report.id, ["message"])
        except IntegrityError:
            raise ConflictError("this message was received already") from None
        return MessageOut(
            message_id,
            author,
            sent_at,
            ciphertext,
            tuple(AttachmentOut(a, 0, message_id) for a in attachments),
        )

    def reporter_attachment(self, lookup: bytes, attachment_id: uuid.UUID) -> Path:
        with self.node.store.reading() as session:
            report = self._report_by_lookup(session, lookup)
            return self._attachment_file(session, report.id, attachment_id)

    def _attachment_file(self, session: Session, report_id: uuid.UUID, attachment_id: uuid.UUID) -> Path:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.report_id != report_id:
            raise NotFoundError("no such attachment")
        return self.attachment_path(attachment_id)

    # -- officers -----------------------------------------------------------------------------------------------------

    def officer_thread(self, principal: Principal, report_id: uuid.UUID) -> tuple[Thread, RecipientOut | None]:
        """The report's ciphertext and the sealed copy of its key for one of the officer's own keys (None when
        none of their keys holds one, e.g. a key made after the report arrived and not granted yet)."""
        require(principal, "report:read")
        with self.node.store.reading() as session:
            report = visible_report(session, principal, report_id)
            found = session.execute(
                select(ReportKey.sealed, RecipientKey.id, RecipientKey.public_key)
                .join(RecipientKey, RecipientKey.id == ReportKey.recipient_key_id)
                .where(ReportKey.report_id == report.id, RecipientKey.account_id == principal.account_id)
                .order_by(RecipientKey.created_at.desc())
                .limit(1)
            ).first()
            if found is None or report.shredded_at is not None:
                thread, recipient = _thread(session, report, b"", ""), None
            else:
                sealed, key_id, public_key = found
                sealed = self.opened_copy(report, sealed, str(key_id))
                thread, recipient = _thread(session, report, sealed, str(key_id)), RecipientOut(key_id, public_key)
        self.record_read(principal, "read", "report", report.id)
        return thread, recipient

    def officer_attachment(self, principal: Principal, report_id: uuid.UUID, attachment_id: uuid.UUID) -> Path:
        require(principal, "report:read")
        with self.node.store.reading() as session:
            report = visible_report(session, principal, report_id)
            path = self._attachment_file(session, report.id, attachment_id)
        self.record_read(principal, "read", "attachment", attachment_id, note=f"report {report.id}")
        return path

    def opened_copy(self, report: Report, stored: bytes, holder: str) -> bytes:
        """A stored copy of the report key as its holder sealed it: unwrapped with the report's shredding key."""
        return open_copy(self.node, report, stored, holder)

    def record_read(
        self, principal: Principal, action: str, entity: str, entity_uuid: uuid.UUID, *, note: str = ""
    ) -> None:
        """Put a read of a report's ciphertext in the audit log before it is handed out (reads run in read
        sessions; the log needs a write transaction of its own)."""
        with self.node.store.writing() as session:
            record_access(session, principal, action, entity, entity_uuid, note=note)

    def remove_stale_uploads(self) -> int:
        """Forget uploads never claimed by a report within a day, and their files."""
        cutoff = hour(utcnow()) - UPLOAD_TTL
        with self.node.store.writing() as session:
            stale = session.scalars(select(Upload.id).where(Upload.started_at < cutoff)).all()
            session.execute(delete(Upload).where(Upload.id.in_(stale)))
        for attachment_id in stale:
            self._part_path(attachment_id).unlink(missing_ok=True)
            self.attachment_path(attachment_id).unlink(missing_ok=True)
        return len(stale)


class UploadOffsetError(ConflictError):
    """The part does not start where the upload stands; `received` tells the browser where to resume."""

    def __init__(self, received: int) -> None:
        super().__init__(f"the upload stands at byte {received}")
        self.received = received


class KeysChangedError(ConflictError):
    """The report was sealed to a set of keys that is no longer the jurisdiction's active set."""


# Plain table inserts: the ORM's unit of work and bulk paths cost more than SQLite's own work for a report.
def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


# The statements of a group, built once: building and compiling them for every report cost more than SQLite's own
# work, and so did the ORM's unit of work.
_INSERT_SPENT = insert(_table(SpentChallenge))
_INSERT_REPORT = insert(_table(Report))
_INSERT_REPORT_KEY = insert(_table(ReportKey))
_INSERT_ATTACHMENT = insert(_table(Attachment))
_SPENT_AMONG = select(SpentChallenge.nonce).where(SpentChallenge.nonce.in_(bindparam("nonces", expanding=True)))
_TAKEN_AMONG = select(Report.id, Report.lookup_hash).where(
    or_(Report.id.in_(bindparam("ids", expanding=True)), Report.lookup_hash.in_(bindparam("lookups", expanding=True)))
)
_COUNT_HOUR = select(func.coalesce(func.sum(ReportHourCount.count), 0)).where(ReportHourCount.hour == bindparam("hour"))
_COUNT_HOUR_JURISDICTION = select(ReportHourCount.count).where(
    ReportHourCount.hour == bindparam("hour"), ReportHourCount.jurisdiction_code == bindparam("code")
)


def _counting_statement(dialect: str) -> Any:
    """Add a group's reports to their hour's counts: one upsert, the same on both databases."""
    table = _table(ReportHourCount)
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["hour", "jurisdiction_code"], set_={"count": table.c.count + statement.excluded.count}
    )


_COUNT_REPORTS = {dialect: _counting_statement(dialect) for dialect in ("sqlite", "postgresql")}
_ACTIVE_KEYS = (
    select(Jurisdiction.code, RecipientKey.id)
    .outerjoin(RecipientKey, and_(RecipientKey.jurisdiction_code == Jurisdiction.code, RecipientKey.status == "active"))
    .where(Jurisdiction.code == bindparam("code"))
)


@dataclass(frozen=True)
class _PendingReport:
    """A submission that passed the checks needing no database, on its way into a group's transaction."""

    submission: Submission
    mode: str
    lookup_hash: str
    challenge: pow.Challenge | None


class _GroupState:
    """What the checks of one group's reports read, once per transaction: the proofs of work, report ids and
    receipts already taken, each jurisdiction's active keys, and this hour's report counts for the ceilings; kept up
    to date as reports of the group are admitted."""

    def __init__(
        self, connection: Connection, settings: Settings, now: dt.datetime, group: Sequence[_PendingReport]
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.hour = hour(now)
        self.acknowledge_by = self.hour + dt.timedelta(days=settings.acknowledge_days)
        nonces = [pending.challenge.nonce for pending in group if pending.challenge is not None]
        self.spent: set[bytes] = set(connection.scalars(_SPENT_AMONG, {"nonces": nonces})) if nonces else set()
        ids = [pending.submission.report_id for pending in group]
        lookups = [pending.lookup_hash for pending in group]
        taken = connection.execute(_TAKEN_AMONG, {"ids": ids, "lookups": lookups}).all()
        self.report_ids: set[uuid.UUID] = {report_id for report_id, _ in taken}
        self.lookups: set[str] = {lookup for _, lookup in taken}
        self.overall = connection.scalar(_COUNT_HOUR, {"hour": self.hour}) or 0
        # A jurisdiction's count is at most the node's: while the node's, with the whole group, stays below the
        # jurisdiction ceiling, no jurisdiction can reach it, and reading its count is spared.
        self._count_locally = self.overall + len(group) >= settings.report_ceiling_per_jurisdiction_per_hour
        self.by_jurisdiction: dict[str, int] = {}
        self._keys: dict[str, frozenset[uuid.UUID] | None] = {}

    def active_keys(self, jurisdiction: str) -> frozenset[uuid.UUID]:
        """The jurisdiction's active key ids (maybe none); NotFoundError when there is no such jurisdiction."""
        if jurisdiction not in self._keys:
            rows = self.connection.execute(_ACTIVE_KEYS, {"code": jurisdiction}).all()
            self._keys[jurisdiction] = frozenset(key for _, key in rows if key is not None) if rows else None
            if self._count_locally:
                local = {"hour": self.hour, "code": jurisdiction}
                self.by_jurisdiction[jurisdiction] = self.connection.scalar(_COUNT_HOUR_JURISDICTION, local) or 0
        keys = self._keys[jurisdiction]
        if keys is None:
            raise NotFoundError(f"no jurisdiction {jurisdiction!r}")
        return keys

    def check(self, pending: _PendingReport) -> None:
        """Raise the refusal of a report, in the order of the checks (the proof of work first); store nothing."""
        submission = pending.submission
        if pending.challenge is not None and pending.challenge.nonce in self.spent:
            raise ConflictError("this proof of work was used already")
        active = self.active_keys(submission.jurisdiction)
        if submission.report_id in self.report_ids or pending.lookup_hash in self.lookups:
            raise ConflictError("this report was received already")
        if not active:
            raise ConflictError("this jurisdiction cannot receive reports yet: it has no active key")
        given = [key.recipient for key in submission.keys]
        if set(given) != active or len(given) != len(active):
            raise KeysChangedError("the jurisdiction's keys changed; seal the report to the current keys")
        if self.overall >= self.settings.report_ceiling_per_hour:
            raise TooManyRequestsError("the node has received its hourly number of reports")
        local = self.by_jurisdiction.get(submission.jurisdiction)
        if local is not None and local >= self.settings.report_ceiling_per_jurisdiction_per_hour:
            raise TooManyRequestsError("this jurisdiction has received its hourly number of reports")

    def admit(self, pending: _PendingReport) -> None:
        """Count a report that passed `check` as stored, so the next ones are checked against it too."""
        if pending.challenge is not None:
            self.spent.add(pending.challenge.nonce)
        self.report_ids.add(pending.submission.report_id)
        self.lookups.add(pending.lookup_hash)
        self.overall += 1
        if pending.submission.jurisdiction in self.by_jurisdiction:
            self.by_jurisdiction[pending.submission.jurisdiction] += 1


def _insert_reports(
    connection: Connection,
    shared: _GroupState,
    accepted: Sequence[tuple[_PendingReport, dict[uuid.UUID, int]]],
    shred_keys: Mapping[uuid.UUID, bytes],
) -> None:
    """The rows of reports that passed their checks: the spent proofs of work, the reports, their sealed keys
    (wrapped with each report's shredding key) and their attachments (one statement per table for all of them, but
    the attachments)."""
    spent = [
        {"nonce": pending.challenge.nonce, "expires_at": _remembered_until(pending.challenge)}
        for pending, _ in accepted
        if pending.challenge is not None
    ]
    if spent:
        connection.execute(_INSERT_SPENT, spent)
    connection.execute(
        _INSERT_REPORT,
        [
            {
                "id": pending.submission.report_id,
                "jurisdiction_code": pending.submission.jurisdiction,
                "received_at": shared.hour,
                "acknowledge_by": shared.acknowledge_by,
                "status": "received",
                "urgent": pending.submission.urgent,
                "mode": pending.mode,
                "lookup_hash": pending.lookup_hash,
                "reporter_key": shred.wrap(
                    shred_keys[pending.submission.report_id],
                    pending.submission.reporter_key,
                    pending.submission.report_id,
                    envelope.REPORTER,
                ),
                "answers": pending.submission.answers,
                "size": len(pending.submission.answers) + sum(files.values()),
                "updated_at": shared.hour,
                "key_wrapped": True,
            }
            for pending, files in accepted
        ],
    )
    connection.execute(
        _INSERT_REPORT_KEY,
        [
            {
                "report_id": pending.submission.report_id,
                "recipient_key_id": key.recipient,
                "sealed": shred.wrap(
                    shred_keys[pending.submission.report_id],
                    key.sealed,
                    pending.submission.report_id,
                    str(key.recipient),
                ),
            }
            for pending, _ in accepted
            for key in pending.submission.keys
        ],
    )
    counts = Counter(pending.submission.jurisdiction for pending, _ in accepted)
    connection.execute(
        _COUNT_REPORTS[connection.dialect.name],
        [{"hour": shared.hour, "jurisdiction_code": code, "count": count} for code, count in counts.items()],
    )
    for pending, files in accepted:
        Intake._move_uploads(connection, pending.submission.report_id, files, None)
    # The urgent ones reach their jurisdiction's supervisors at once (no statement at all for a group without one).
    urgent = [(p.submission.report_id, p.submission.jurisdiction) for p, _ in accepted if p.submission.urgent]
    notifications.notify_urgent(connection, urgent, shared.hour)


def _remembered_until(challenge: pow.Challenge) -> dt.datetime:
    """How long a spent challenge is kept: until the next full hour after its expiry, since an exact expiry would
    date the submission to the second."""
    return hour(dt.datetime.fromtimestamp(challenge.expires, dt.UTC)) + dt.timedelta(hours=1)


def _check_envelope(submission: Submission) -> None:
    """Sizes only (the server opens nothing): padded answers, and sealed keys of exactly the expected length."""
    errors = _check_document(submission.answers, ("answers",))
    expected_sealed = envelope.SEAL_BYTES + envelope.KEY_BYTES
    reporter_context = envelope.report_key_context(submission.report_id, envelope.REPORTER)
    if len(submission.reporter_key) != expected_sealed + len(reporter_context):
        errors.append(FieldError(("reporter_key",), "not a sealed report key"))
    for index, key in enumerate(submission.keys):
        bound = envelope.report_key_context(submission.report_id, str(key.recipient))
        if len(key.sealed) != expected_sealed + len(bound):
            errors.append(FieldError(("keys", index, "sealed"), "not a sealed report key"))
    if errors:
        raise InvalidInputError("the report envelope is malformed", errors)


def _check_document(ciphertext: bytes, loc: tuple[str | int, ...]) -> list[FieldError]:
    size = len(ciphertext)
    if size > MAX_DOCUMENT_BYTES:
        return [FieldError(loc, f"at most {MAX_DOCUMENT_BYTES} bytes")]
    padded = size - envelope.NONCE_BYTES - envelope.AEAD_ABYTES
    if size < _MIN_DOCUMENT or padded % envelope.PAD_BLOCK:
        return [FieldError(loc, "not a padded, encrypted document")]
    return []


def visible_to(jurisdiction: str) -> ColumnElement[bool]:
    """The reports a jurisdiction's officers may read: its own, and those referred to it (services/cases.py)."""
    referred = select(Referral.report_id).where(
        Referral.kind == "focal_point", Referral.to_jurisdiction == jurisdiction
    )
    return or_(Report.jurisdiction_code == jurisdiction, Report.id.in_(referred))


def visible_report(
    session: Session, principal: Principal, report_id: uuid.UUID | None, *, lock: bool = False
) -> Report:
    """The report, when `principal` may see it: its jurisdiction's, or referred to it (the operator, at the command
    line, sees every report). The same NotFoundError for "does not exist" and "another jurisdiction's": existence is
    not revealed across borders."""
    report = None
    if report_id is not None and principal.role == OPERATOR_ROLE:
        report = session.get(Report, report_id, with_for_update=lock)
    elif report_id is not None and principal.jurisdiction is not None:
        query = select(Report).where(Report.id == report_id, visible_to(principal.jurisdiction))
        report = session.scalar(query.with_for_update() if lock else query)
    if report is None:
        raise NotFoundError("no such report in your jurisdiction")
    return report


def held_report(session: Session, principal: Principal, report_id: uuid.UUID) -> Report:
    """The report, when `principal`'s jurisdiction holds its case (a focal point it was referred to reads it, but
    gets the same NotFoundError as anyone else for what only the holder does: the case is the other's)."""
    report = session.get(Report, report_id)
    if report is None or principal.jurisdiction is None or report.jurisdiction_code != principal.jurisdiction:
        raise NotFoundError("no such report in your jurisdiction")
    return report


def _summary(session: Session, report: Report) -> ReportSummary:
    messages = session.scalar(select(func.count()).where(ReportMessage.report_id == report.id)) or 0
    files = session.scalar(select(func.count()).where(Attachment.report_id == report.id)) or 0
    return ReportSummary(
        report.id,
        report.jurisdiction_code,
        report.received_at,
        report.acknowledge_by,
        report.updated_at,
        report.status,
        report.urgent,
        report.mode,
        report.size,
        messages,
        files,
        report.shredded_at,
    )


def open_copy(node: Node, report: Report, stored: bytes, holder: str) -> bytes:
    """A stored sealed copy of a report's key, unwrapped from the report's shredding key (crypto/shred.py).
    NotFoundError once the report was shredded: nothing can open it any more."""
    if report.shredded_at is not None:
        raise NotFoundError(f"the content of this report was deleted on {report.shredded_at:%Y-%m-%d} (retention)")
    if not report.key_wrapped:
        return stored  # stored before migration 0009 and not wrapped yet (`tnrwatch retention wrap-existing`)
    key = node.shred_keys.get(report.id)
    if key is None:
        raise NotFoundError("the shredding key of this report is gone: its content can no longer be opened")
    return shred.unwrap(key, stored, report.id, holder)


def wrap_copy(node: Node, report: Report, sealed: bytes, holder: str) -> bytes:
    """A new sealed copy of a report's key (a referral, a grant), wrapped as the intake wraps them."""
    if report.shredded_at is not None:
        raise ConflictError("the content of this report was shredded: there is no key left to share")
    if not report.key_wrapped:
        return sealed
    (key,) = node.shred_keys.get_or_make([report.id]).values()
    return shred.wrap(key, sealed, report.id, holder)


def _thread(session: Session, report: Report, sealed_key: bytes, recipient: str) -> Thread:
    attachments = tuple(
        AttachmentOut(a.id, a.size, a.message_id)
        for a in session.scalars(select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.id))
    )
    messages = tuple(
        MessageOut(
            m.id,
            m.author,
            m.sent_at,
            m.ciphertext,
            tuple(a for a in attachments if a.message_id == m.id),
        )
        for m in session.scalars(
            select(ReportMessage).where(ReportMessage.report_id == report.id).order_by(ReportMessage.seq)
        )
    )
    return Thread(
        report=_summary(session, report),
        answers=report.answers,
        sealed_key=sealed_key,
        recipient=recipient,
        attachments=tuple(a for a in attachments if a.message_id is None),
        messages=messages,
    )


def document_attachments(document: Any) -> list[dict[str, Any]]:
    """The attachment entries of a decrypted answers or message document (empty when malformed)."""
    entries = document.get("attachments") if isinstance(document, dict) else None
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def operator_thread(intake: Intake, report_id: uuid.UUID, key_id: uuid.UUID) -> Thread:
    """The report's ciphertext and its key sealed to one recipient key (the CLI, which acts for the operator, reads
    with an officer's key file)."""
    with intake.node.store.reading() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id}")
        sealed = session.get(ReportKey, (report_id, key_id))
        if sealed is None:
            raise NotFoundError(f"the key {key_id} holds no copy of report {report_id}'s key")
        thread = _thread(session, report, intake.opened_copy(report, sealed.sealed, str(key_id)), str(key_id))
    intake.record_read(Principal.operator(), "decrypt", "report", report_id, note=f"key {key_id}")
    return thread


def list_all_reports(intake: Intake, jurisdiction: str | None = None) -> list[ReportSummary]:
    """Report metadata for the operator (`tnrwatch reports list`)."""
    with intake.node.store.reading() as session:
        query = select(Report).order_by(Report.received_at.desc(), Report.id)
        if jurisdiction is not None:
            query = query.where(Report.jurisdiction_code == jurisdiction)
        return [_summary(session, report) for report in session.scalars(query)]
