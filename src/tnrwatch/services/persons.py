"""Persons: pseudonymous records for analysis; identities sealed in the vault and read only on explicit request."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from tnrwatch.crypto.vault import Sealed
from tnrwatch.domain.person import PersonIdentity, PersonIn, PersonOut
from tnrwatch.domain.validation import validate
from tnrwatch.errors import ConflictError, NotFoundError
from tnrwatch.services import identity_shares
from tnrwatch.services.changes import record_access, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal, record_jurisdiction, require
from tnrwatch.store.models import Person
from tnrwatch.store.models import PersonIdentity as PersonIdentityRow
from tnrwatch.store.types import utcnow

_PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U to misread


def new_pseudonym() -> str:
    return "P-" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(8))


def _associated_data(person_uuid: uuid.UUID) -> bytes:
    return b"tnrwatch person identity " + person_uuid.bytes


def create_person(node: Node, principal: Principal, raw: Mapping[str, Any] | PersonIn) -> PersonOut:
    require(principal, "person:write")
    person = raw if isinstance(raw, PersonIn) else validate(PersonIn, raw, node.taxonomy, what="person")
    if person.identity is not None:
        require(principal, "person:identity")
    with node.store.writing() as session:
        return add_person(session, node, principal, person)


def add_person(session: Session, node: Node, principal: Principal, person: PersonIn) -> PersonOut:
    """Store a validated person in the caller's write transaction, the identity sealed in the vault, and record the
    change. The caller has checked the permissions (`person:write`, and `person:identity` for an identity)."""
    person_uuid = person.id or uuid.uuid4()
    if session.scalar(select(Person.id).where(Person.uuid == person_uuid)) is not None:
        raise ConflictError(f"a person with id {person_uuid} already exists")
    pseudonym = person.pseudonym or _free_pseudonym(session)
    if session.scalar(select(Person.id).where(Person.pseudonym == pseudonym)) is not None:
        raise ConflictError(f"the pseudonym {pseudonym!r} is taken")
    now = utcnow()
    row = Person(
        uuid=person_uuid,
        pseudonym=pseudonym,
        at_risk=person.at_risk,
        consent_to_share=person.consent_to_share,
        jurisdiction_code=record_jurisdiction(principal),
        version=1,
        created_at=now,
        updated_at=now,
    )
    if person.identity is not None:
        row.identity = _seal(node, person_uuid, person.identity)
    session.add(row)
    session.flush()
    record_change(session, principal, "create", "person", person_uuid, person.model_fields_set)
    return _out(row, has_identity=person.identity is not None)


def list_persons(node: Node, principal: Principal, limit: int = 100, offset: int = 0) -> list[PersonOut]:
    """Persons by pseudonym. Never carries identities, whoever asks."""
    require(principal, "person:read")
    with node.store.reading() as session:
        rows = session.scalars(
            select(Person)
            .options(selectinload(Person.identity))
            .where(*visible_persons(principal))
            .order_by(Person.pseudonym)
            .limit(limit)
            .offset(offset)
        )
        return [_out(row, has_identity=row.identity is not None) for row in rows]


def get_person(node: Node, principal: Principal, person_uuid: uuid.UUID, *, with_identity: bool = False) -> PersonOut:
    require(principal, "person:read")
    if with_identity:
        require(principal, "person:identity")
    with node.store.writing() if with_identity else node.store.reading() as session:
        row = session.scalar(select(Person).options(selectinload(Person.identity)).where(Person.uuid == person_uuid))
        if row is None:
            raise NotFoundError(f"no person with id {person_uuid}")
        shared = not _sees(principal, row.jurisdiction_code)
        if shared and not identity_shares.shared_with(session, principal, row.id):
            raise NotFoundError(f"no person with id {person_uuid}")
        identity = None
        if with_identity and row.identity is not None:
            sealed = Sealed(row.identity.key_id, row.identity.ciphertext)
            plaintext = node.vault.open_sealed(sealed, _associated_data(person_uuid))
            identity = PersonIdentity.model_validate(json.loads(plaintext))
            note = "through an identity share" if shared else ""
            record_access(session, principal, "read-identity", "person", person_uuid, note=note)
        return _out(row, has_identity=row.identity is not None, identity=identity)


def _sees(principal: Principal, jurisdiction: str | None) -> bool:
    """A person recorded by a jurisdiction's staff is theirs alone (pseudonym and identity); the node's own persons
    are seen by every role that reads persons. The operator sees all."""
    return principal.role == OPERATOR_ROLE or jurisdiction is None or jurisdiction == principal.jurisdiction


def visible_persons(principal: Principal) -> list[ColumnElement[bool]]:
    """The persons `principal` may see, as conditions on `Person` (see `_sees`)."""
    if principal.role == OPERATOR_ROLE:
        return []
    if principal.jurisdiction is None:
        return [Person.jurisdiction_code.is_(None)]
    return [or_(Person.jurisdiction_code.is_(None), Person.jurisdiction_code == principal.jurisdiction)]


def _seal(node: Node, person_uuid: uuid.UUID, identity: PersonIdentity) -> PersonIdentityRow:
    plaintext = identity.model_dump_json().encode()
    sealed = node.vault.seal(plaintext, _associated_data(person_uuid))
    return PersonIdentityRow(key_id=sealed.key_id, ciphertext=sealed.ciphertext, updated_at=utcnow())


def open_identity(node: Node, person_uuid: uuid.UUID, row: PersonIdentityRow) -> PersonIdentity:
    """A person's identity opened from the vault, for node processes that compare it in memory and hand out none of
    it (services/screening.py). The caller checks its permission and records the access."""
    plaintext = node.vault.open_sealed(Sealed(row.key_id, row.ciphertext), _associated_data(person_uuid))
    return PersonIdentity.model_validate(json.loads(plaintext))


def _free_pseudonym(session: Session) -> str:
    while True:
        candidate = new_pseudonym()
        if session.scalar(select(Person.id).where(Person.pseudonym == candidate)) is None:
            return candidate


def _out(row: Person, *, has_identity: bool, identity: PersonIdentity | None = None) -> PersonOut:
    return PersonOut(
        id=row.uuid,
        pseudonym=row.pseudonym,
        at_risk=row.at_risk,
        consent_to_share=row.consent_to_share,
        has_identity=has_identity,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        identity=identity,
    )
