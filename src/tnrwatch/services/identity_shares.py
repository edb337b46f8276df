"""Consented identity sharing between two focal points (domain/identity_share.py): grant, revoke, list, and the
check `services.persons` asks before it opens an identity for a focal point that does not own the person.

Who grants: a caseworker who may read the identity, of the jurisdiction that owns the person (the operator for the
node's own persons), and only when the person consented to sharing. Who then reads: the receiving jurisdiction's
caseworkers (who hold `person:identity`), each read recorded as the owner's reads are. Nothing of the identity moves:
the grant opens the same vault entry to one more focal point, until it expires or is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from tnrwatch.domain.identity_share import IdentityShareIn, IdentityShareOut
from tnrwatch.errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal, require
from tnrwatch.store.models import Account, IdentityShare, Jurisdiction, Person
from tnrwatch.store.types import utcnow


def grant_identity_share(
    node: Node, principal: Principal, person_uuid: uuid.UUID, raw: Mapping[str, Any] | IdentityShareIn
) -> IdentityShareOut:
    require(principal, "person:identity")
    share = raw if isinstance(raw, IdentityShareIn) else IdentityShareIn.model_validate(raw)
    now = utcnow()
    with node.store.writing() as session:
        person = _owned_person(session, principal, person_uuid)
        owner = person.jurisdiction_code
        errors: list[FieldError] = []
        if session.get(Jurisdiction, share.to_jurisdiction) is None:
            errors.append(FieldError(("to_jurisdiction",), f"no jurisdiction {share.to_jurisdiction}"))
        elif share.to_jurisdiction == owner:
            errors.append(FieldError(("to_jurisdiction",), "the person's own focal point reads the identity already"))
        if share.expires_at is not None and share.expires_at <= now:
            errors.append(FieldError(("expires_at",), "the expiry has passed"))
        if errors:
            raise InvalidInputError("the identity share is invalid", errors)
        if not person.consent_to_share:
            raise ConflictError("the person has not consented to sharing: record their consent on the person first")
        if person.identity is None:
            raise ConflictError("the person has no identity in the vault to share")
        if _active(session, person.id, share.to_jurisdiction) is not None:
            raise ConflictError(f"the identity is already shared with {share.to_jurisdiction}")
        row = IdentityShare(
            uuid=uuid.uuid4(),
            person_id=person.id,
            from_jurisdiction=owner or "node",
            to_jurisdiction=share.to_jurisdiction,
            consent=share.consent,
            purpose=share.purpose,
            granted_by_id=principal.account_id,
            created_at=now,
            expires_at=share.expires_at,
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            principal,
            "share-identity",
            "person",
            person.uuid,
            share.model_fields_set,
            note=f"to {row.to_jurisdiction}",
        )
        return _out(session, row, person.uuid)


def revoke_identity_share(node: Node, principal: Principal, share_uuid: uuid.UUID) -> IdentityShareOut:
    """Either side may end a grant: the owner that gave it, or the focal point that no longer needs it."""
    require(principal, "person:identity")
    with node.store.writing() as session:
        row = session.scalar(select(IdentityShare).where(IdentityShare.uuid == share_uuid))
        person = session.get(Person, row.person_id) if row is not None else None
        if row is None or person is None or not _party(principal, person.jurisdiction_code, row.to_jurisdiction):
            raise NotFoundError(f"no identity share with id {share_uuid}")
        if row.revoked_at is not None:
            raise ConflictError("the identity share is already revoked")
        row.revoked_at = utcnow()
        record_change(session, principal, "revoke-identity-share", "person", person.uuid, ["revoked_at"])
        return _out(session, row, person.uuid)


def list_identity_shares(node: Node, principal: Principal, person_uuid: uuid.UUID) -> list[IdentityShareOut]:
    """The grants on one person: all of them for its owner, the receiving side's own for a receiving focal point."""
    require(principal, "person:identity")
    with node.store.reading() as session:
        person = session.scalar(select(Person).where(Person.uuid == person_uuid))
        if person is None:
            raise NotFoundError(f"no person with id {person_uuid}")
        query = select(IdentityShare).where(IdentityShare.person_id == person.id).order_by(IdentityShare.id)
        if not _owner(principal, person.jurisdiction_code):
            query = query.where(IdentityShare.to_jurisdiction == principal.jurisdiction)
        rows = list(session.scalars(query))
        if not rows and not _owner(principal, person.jurisdiction_code):
            raise NotFoundError(f"no person with id {person_uuid}")
        return [_out(session, row, person.uuid) for row in rows]


def shared_with(session: Session, principal: Principal, person_id: int) -> bool:
    """Whether an active grant lets `principal`'s focal point read this person's identity."""
    return principal.jurisdiction is not None and _active(session, person_id, principal.jurisdiction) is not None


def _active(session: Session, person_id: int, jurisdiction: str) -> IdentityShare | None:
    now = utcnow()
    return session.scalar(
        select(IdentityShare).where(
            IdentityShare.person_id == person_id,
            IdentityShare.to_jurisdiction == jurisdiction,
            IdentityShare.revoked_at.is_(None),
            or_(IdentityShare.expires_at.is_(None), IdentityShare.expires_at > now),
        )
    )


def _owned_person(session: Session, principal: Principal, person_uuid: uuid.UUID) -> Person:
    person = session.scalar(select(Person).options(selectinload(Person.identity)).where(Person.uuid == person_uuid))
    if person is None:
        raise NotFoundError(f"no person with id {person_uuid}")
    if not _owner(principal, person.jurisdiction_code):
        if person.jurisdiction_code is None or person.jurisdiction_code == principal.jurisdiction:
            raise ForbiddenError("only the operator shares the identity of the node's own persons")
        raise NotFoundError(f"no person with id {person_uuid}")
    return person


def _owner(principal: Principal, jurisdiction: str | None) -> bool:
    if principal.role == OPERATOR_ROLE:
        return True
    return jurisdiction is not None and jurisdiction == principal.jurisdiction


def _party(principal: Principal, owner: str | None, recipient: str) -> bool:
    return _owner(principal, owner) or (principal.jurisdiction is not None and principal.jurisdiction == recipient)


def _out(session: Session, row: IdentityShare, person_uuid: uuid.UUID) -> IdentityShareOut:
    granted_by = session.get(Account, row.granted_by_id) if row.granted_by_id is not None else None
    now = utcnow()
    return IdentityShareOut(
        id=row.uuid,
        person_id=person_uuid,
        from_jurisdiction=row.from_jurisdiction,
        to_jurisdiction=row.to_jurisdiction,
        consent=row.consent,
        purpose=row.purpose,
        expires_at=row.expires_at,
        granted_by=granted_by.username if granted_by is not None else None,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None and (row.expires_at is None or row.expires_at > now),
    )
