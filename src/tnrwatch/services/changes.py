"""The one place where the audit log is written: who changed or read what, when. Field names only, never values.

Every entry is appended to a hash chain (`store.audit_chain`) inside the caller's transaction, so it commits or rolls
back with the change itself. Appends are serialized: on SQLite every write transaction already holds the database's
write lock (`Store.writing()` begins with BEGIN IMMEDIATE); on PostgreSQL the appending transaction takes an advisory
lock before it reads the chain's head, and keeps it until it commits. When the last seal is older than
`audit_seal_minutes`, the append also seals the new head with the node's signing key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nacl.signing import SigningKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tnrwatch.crypto import audit_key
from tnrwatch.services.policy import Principal
from tnrwatch.store.audit_chain import FIELDS, GENESIS_HASH, ChainEntry, entry_hash, seal_payload
from tnrwatch.store.models import AuditEntry, AuditSeal
from tnrwatch.store.types import utcnow

SEALER_INFO = "tnrwatch.audit_sealer"
# Any constant will do, as long as nothing else on the server takes the same advisory lock: "tnraudit" in ASCII.
_APPEND_LOCK = 0x746E_7261_7564_6974


@dataclass
class Sealer:
    """The node's audit signing key (read from the key directory on first use) and how often to seal."""

    key_dir: Path
    every: dt.timedelta
    _key: SigningKey | None = field(default=None, repr=False)

    @property
    def key(self) -> SigningKey:
        if self._key is None:
            self._key = audit_key.open_signing_key(self.key_dir)
        return self._key


def record_change(
    session: Session,
    principal: Principal,
    action: str,
    entity: str,
    entity_uuid: uuid.UUID | None = None,
    fields: Iterable[str] = (),
    *,
    count: int = 1,
    note: str = "",
) -> None:
    """Append a change to the audit log in the caller's write transaction (from `Store.writing()`)."""
    _append(session, principal, action, entity, entity_uuid, sorted(fields), count, note)


def record_access(
    session: Session,
    principal: Principal,
    action: str,
    entity: str,
    entity_uuid: uuid.UUID | None = None,
    *,
    note: str = "",
) -> None:
    """Append a read of protected data (a report's ciphertext, a person's identity, evidence) to the audit log.
    Call it in a write transaction before handing the data out, so that a read the log cannot record does not
    happen. `note` must never hold a name or any content."""
    _append(session, principal, action, entity, entity_uuid, [], 1, note)


def seal_head(session: Session, key: SigningKey) -> AuditSeal | None:
    """Sign the chain's current head and store the seal; None when the log is empty. Takes the append lock, so the
    head cannot move while it is signed."""
    _lock_chain(session)
    head = _head(session)
    if head is None:
        return None
    last_id, last_hash = head
    return _add_seal(session, key, last_id, last_hash)


def _append(
    session: Session,
    principal: Principal,
    action: str,
    entity: str,
    entity_uuid: uuid.UUID | None,
    fields: list[str],
    count: int,
    note: str,
) -> None:
    _lock_chain(session)
    last_id, prev_hash = _head(session) or (0, GENESIS_HASH)
    entry = ChainEntry(
        id=last_id + 1,
        at=utcnow(),
        account_id=principal.account_id,
        username=principal.username,
        role=principal.role,
        jurisdiction=principal.jurisdiction,
        action=action,
        entity=entity,
        entity_uuid=entity_uuid,
        fields=fields,
        count=count,
        note=note or ("via the command line" if principal.account_id is None else ""),
        prev_hash=prev_hash,
    )
    row = AuditEntry(**{name: getattr(entry, name) for name in FIELDS}, hash=entry_hash(entry))
    session.add(row)
    _seal_if_due(session, row)


def hold_append_lock(session: Session) -> None:
    """Hold the audit log's append lock until the transaction ends (PostgreSQL; SQLite's writers hold the database's
    write lock already). For other appends that must be serialised too (the TAXII object store): one lock for both,
    so that two transactions can never hold one each and wait for the other."""
    _lock_chain(session)


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})


def _head(session: Session) -> tuple[int, str] | None:
    """The last entry's id and hash, counting entries this session has added but not flushed yet. Without autoflush:
    the caller's own pending rows may not be ready to be written at this point."""
    with session.no_autoflush:
        stored = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    heads = [(row.id, row.hash) for row in session.new if isinstance(row, AuditEntry)]
    if stored is not None:
        heads.append((stored.id, stored.hash))
    return max(heads) if heads else None


def _seal_if_due(session: Session, head: AuditEntry) -> None:
    sealer = session.info.get(SEALER_INFO)
    if not isinstance(sealer, Sealer):
        return  # a store opened without a node (migrations, tools): nothing to seal with
    if any(isinstance(row, AuditSeal) for row in session.new):
        return  # sealed earlier in this transaction
    with session.no_autoflush:
        last_sealed = session.scalar(select(AuditSeal.at).order_by(AuditSeal.id.desc()).limit(1))
    if last_sealed is None or utcnow() - last_sealed >= sealer.every:
        _add_seal(session, sealer.key, head.id, head.hash)


def _add_seal(session: Session, key: SigningKey, last_id: int, last_hash: str) -> AuditSeal:
    at = utcnow()
    seal = AuditSeal(
        at=at,
        last_id=last_id,
        last_hash=last_hash,
        public_key=audit_key.public_key(key),
        signature=audit_key.sign(key, seal_payload(last_id, last_hash, at)),
    )
    session.add(seal)
    return seal
