"""Recipient keys: officers' X25519 key pairs, stored as the public key and the passphrase-wrapped private key.

New reports are sealed to every *active* key of their jurisdiction. Rotation makes a new key pair for the same
officer, re-seals every report key held by the old key to the new one (which needs the old private key, so it runs
where the officer unlocks it: `tnrwatch keys rotate`), then retires the old key. Revocation deletes the key's sealed
copies at once, so the key opens nothing stored here any more; it refuses when some report would be left with no
officer able to read it, unless forced. Granting re-seals an officer's reports to a colleague's key (a new officer
joining a focal point).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from tnrwatch.crypto import envelope, keywrap
from tnrwatch.crypto.keywrap import Strength, WrappedKey
from tnrwatch.errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal, require
from tnrwatch.services.reports import open_copy, wrap_copy
from tnrwatch.store.models import Account, Jurisdiction, RecipientKey, Report, ReportKey
from tnrwatch.store.types import utcnow


@dataclass(frozen=True)
class KeyOut:
    id: uuid.UUID
    jurisdiction: str
    username: str | None
    label: str
    public_key: bytes
    wrapped_private_key: dict[str, object]
    status: str
    created_at: dt.datetime
    reports: int  # sealed report keys this key holds

    @property
    def fingerprint(self) -> str:
        """A short, stable name for the public key that officers can compare by eye."""
        digest = envelope.b64encode(self.public_key)
        return digest[:8] + "-" + digest[8:16]


def add_key(
    node: Node,
    principal: Principal,
    *,
    jurisdiction: str,
    username: str | None,
    public_key: bytes,
    wrapped_private_key: dict[str, object],
    key_id: uuid.UUID,
    label: str = "",
) -> KeyOut:
    """Store a key pair made elsewhere (the officer's browser or machine). Checks the wrapped form's shape; only the
    officer's passphrase can check the rest."""
    errors = []
    if len(public_key) != 32:
        errors.append(FieldError(("public_key",), "an X25519 public key has 32 bytes"))
    try:
        WrappedKey.from_json(wrapped_private_key)
    except ValueError as exc:
        errors.append(FieldError(("wrapped_private_key",), str(exc)))
    if errors:
        raise InvalidInputError("the key is invalid", errors)
    with node.store.writing() as session:
        if session.get(Jurisdiction, jurisdiction) is None:
            raise NotFoundError(f"no jurisdiction {jurisdiction!r}; `tnrwatch jurisdictions list` shows them")
        account_id = None
        if username is not None:
            account = session.scalar(select(Account).where(Account.username == username))
            if account is None:
                raise NotFoundError(f"no account named {username!r}")
            account_id = account.id
        if principal.role != OPERATOR_ROLE:
            require(principal, "key:manage_own")
            if account_id != principal.account_id or jurisdiction != principal.jurisdiction:
                raise ForbiddenError("officers add keys for themselves and their own jurisdiction only")
        if session.get(RecipientKey, key_id) is not None:
            raise ConflictError(f"a key {key_id} already exists")
        if session.scalar(select(RecipientKey.id).where(RecipientKey.public_key == public_key)) is not None:
            raise ConflictError("this public key is already registered")
        session.add(
            RecipientKey(
                id=key_id,
                jurisdiction_code=jurisdiction,
                account_id=account_id,
                label=label,
                public_key=public_key,
                wrapped_private_key=wrapped_private_key,
                status="active",
                created_at=utcnow(),
            )
        )
        record_change(session, principal, "create", "recipient_key", key_id, ["public_key"], note=jurisdiction)
    return get_key(node, key_id)


def create_key(
    node: Node,
    principal: Principal,
    *,
    jurisdiction: str,
    username: str | None,
    passphrase: str,
    label: str = "",
    strength: Strength | None = None,
) -> KeyOut:
    """Make a key pair here, wrap the private key with `passphrase` and register it (`tnrwatch keys create`, the
    demo). Officers who make theirs in the browser send `add_key` the wrapped form instead."""
    if len(passphrase) < keywrap.MIN_PASSPHRASE_CHARS:
        raise InvalidInputError(f"a passphrase has at least {keywrap.MIN_PASSPHRASE_CHARS} characters")
    public, private = envelope.new_key_pair()
    key_id = uuid.uuid4()
    wrapped = keywrap.wrap(private, passphrase, key_id, public, strength or node.settings.key_wrap_strength)
    return add_key(
        node,
        principal,
        jurisdiction=jurisdiction,
        username=username,
        public_key=public,
        wrapped_private_key=wrapped.to_json(),
        key_id=key_id,
        label=label,
    )


def get_key(node: Node, key_id: uuid.UUID) -> KeyOut:
    keys = _keys(node, RecipientKey.id == key_id)
    if not keys:
        raise NotFoundError(f"no recipient key {key_id}")
    return keys[0]


def list_keys(node: Node, jurisdiction: str | None = None, username: str | None = None) -> list[KeyOut]:
    conditions = []
    if jurisdiction is not None:
        conditions.append(RecipientKey.jurisdiction_code == jurisdiction)
    if username is not None:
        conditions.append(Account.username == username)
    return _keys(node, *conditions)


def _keys(node: Node, *conditions: object) -> list[KeyOut]:
    held = select(ReportKey.recipient_key_id, func.count().label("n")).group_by(ReportKey.recipient_key_id).subquery()
    query = (
        select(RecipientKey, Account.username, held.c.n)
        .outerjoin(Account, Account.id == RecipientKey.account_id)
        .outerjoin(held, held.c.recipient_key_id == RecipientKey.id)
        .where(*conditions)  # type: ignore[arg-type]  # SQLAlchemy column expressions, typed loosely here
        .order_by(RecipientKey.jurisdiction_code, RecipientKey.created_at)
    )
    with node.store.reading() as session:
        return [
            KeyOut(
                key.id,
                key.jurisdiction_code,
                username,
                key.label,
                key.public_key,
                key.wrapped_private_key,
                key.status,
                key.created_at,
                count or 0,
            )
            for key, username, count in session.execute(query)
        ]


def reseal(
    node: Node,
    principal: Principal,
    *,
    from_key: uuid.UUID,
    private_key: bytes,
    to_key: uuid.UUID,
    retire_source: bool,
) -> int:
    """Seal every report key held by `from_key` (opened with its private key) to `to_key` as well; with
    `retire_source`, then drop the old copies and retire the old key (rotation). Returns the number of reports."""
    with node.store.writing() as session:
        source, target = session.get(RecipientKey, from_key), session.get(RecipientKey, to_key)
        if source is None or target is None:
            raise NotFoundError(f"no recipient key {from_key if source is None else to_key}")
        if source.jurisdiction_code != target.jurisdiction_code:
            raise ForbiddenError("reports are re-sealed only to keys of the same jurisdiction")
        if target.status != "active":
            raise ConflictError(f"the key {to_key} is {target.status}, not active")
        if envelope.public_key_of(private_key) != source.public_key:
            raise InvalidInputError(f"the private key given is not the private key of {from_key}")
        existing = set(session.scalars(select(ReportKey.report_id).where(ReportKey.recipient_key_id == to_key)))
        rows = session.execute(
            select(ReportKey, Report)
            .join(Report, Report.id == ReportKey.report_id)
            .where(ReportKey.recipient_key_id == from_key, Report.shredded_at.is_(None))
        ).all()
        count = 0
        for row, report in rows:
            sealed = open_copy(node, report, row.sealed, str(from_key))
            report_key = envelope.open_report_key(sealed, private_key, row.report_id, str(from_key))
            if row.report_id not in existing:
                sealed = envelope.seal_report_key(report_key, target.public_key, row.report_id, str(to_key))
                sealed = wrap_copy(node, report, sealed, str(to_key))
                session.add(ReportKey(report_id=row.report_id, recipient_key_id=to_key, sealed=sealed))
                count += 1
        if retire_source:
            session.execute(delete(ReportKey).where(ReportKey.recipient_key_id == from_key))
            source.status = "retired"
            source.retired_at = utcnow()
        action = "rotate" if retire_source else "grant"
        record_change(session, principal, action, "recipient_key", to_key, ["report_keys"], count=count)
    return count


def revoke(node: Node, principal: Principal, key_id: uuid.UUID, *, force: bool = False) -> int:
    """Revoke a key: delete its sealed report keys and mark it revoked. Returns how many reports lost this copy."""
    with node.store.writing() as session:
        key = session.get(RecipientKey, key_id)
        if key is None:
            raise NotFoundError(f"no recipient key {key_id}")
        if principal.role != OPERATOR_ROLE:
            raise ForbiddenError("keys are revoked by the node's operator (`tnrwatch keys revoke`)")
        held = select(ReportKey.report_id).where(ReportKey.recipient_key_id == key_id)
        others = (
            select(ReportKey.report_id)
            .where(ReportKey.report_id.in_(held), ReportKey.recipient_key_id != key_id)
            .distinct()
        )
        total = session.scalar(select(func.count()).select_from(held.subquery())) or 0
        covered = session.scalar(select(func.count()).select_from(others.subquery())) or 0
        if total - covered and not force:
            raise ConflictError(
                f"{total - covered} report(s) can be read with this key only; revoking it makes them unreadable "
                "for good. Grant them to another officer's key first (`tnrwatch keys grant`), or pass --force"
            )
        session.execute(delete(ReportKey).where(ReportKey.recipient_key_id == key_id))
        key.status = "revoked"
        key.retired_at = utcnow()
        record_change(session, principal, "revoke", "recipient_key", key_id, ["status"], count=total)
    return total
