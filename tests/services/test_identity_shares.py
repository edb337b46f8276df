"""Consented identity sharing between two focal points: granted only with consent, read only by the receiving focal
point's caseworkers while active, every step in the audit log, nothing of the identity anywhere else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import identity_shares, persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry, IdentityShare
from tnrwatch.store.types import utcnow

GERMAN = Principal(account_id=None, username="de-off", role="officer", jurisdiction="DE")
FRENCH = Principal(account_id=None, username="fr-off", role="officer", jurisdiction="FR")
DUTCH = Principal(account_id=None, username="nl-off", role="officer", jurisdiction="NL")
ANALYST = Principal(account_id=None, username="ana", role="analyst")
IDENTITY = {"full_name": "Dilnoza Example", "nationalities": ["UZ"]}
GRANT = {"to_jurisdiction": "fr", "consent": "in person, recorded in case 14", "purpose": "relocation to France"}


def _person(node: Node, *, consent: bool = True) -> persons.PersonOut:
    return persons.create_person(node, GERMAN, {"identity": IDENTITY, "consent_to_share": consent})


def test_a_grant_opens_the_identity_to_the_receiving_focal_point_only(node: Node) -> None:
    person = _person(node)
    with pytest.raises(NotFoundError):
        persons.get_person(node, FRENCH, person.id, with_identity=True)
    share = identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)
    assert (share.from_jurisdiction, share.to_jurisdiction, share.active) == ("DE", "FR", True)
    opened = persons.get_person(node, FRENCH, person.id, with_identity=True)
    assert opened.identity is not None
    assert opened.identity.full_name == "Dilnoza Example"
    with pytest.raises(NotFoundError):
        persons.get_person(node, DUTCH, person.id, with_identity=True)
    with pytest.raises(ForbiddenError):  # analysts never read identities, shared or not
        persons.get_person(node, ANALYST, person.id, with_identity=True)
    with node.store.reading() as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.username, AuditEntry.note).where(AuditEntry.entity_uuid == person.id)
        ).all()
    assert ("share-identity", "de-off", "to FR") in entries
    assert ("read-identity", "fr-off", "through an identity share") in entries
    assert not any("Dilnoza" in (note or "") for _, _, note in entries)


def test_revoked_or_expired_grants_open_nothing(node: Node) -> None:
    person = _person(node)
    share = identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)
    identity_shares.revoke_identity_share(node, FRENCH, share.id)  # the receiving side may end it too
    with pytest.raises(NotFoundError):
        persons.get_person(node, FRENCH, person.id, with_identity=True)
    with pytest.raises(ConflictError, match="already revoked"):
        identity_shares.revoke_identity_share(node, GERMAN, share.id)
    again = identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)
    with node.store.writing() as session:
        row = session.scalar(select(IdentityShare).where(IdentityShare.uuid == again.id))
        assert row is not None
        row.expires_at = utcnow() - dt.timedelta(seconds=1)
    with pytest.raises(NotFoundError):
        persons.get_person(node, FRENCH, person.id, with_identity=True)
    assert [s.active for s in identity_shares.list_identity_shares(node, GERMAN, person.id)] == [False, False]


def test_no_consent_no_grant(node: Node) -> None:
    person = _person(node, consent=False)
    with pytest.raises(ConflictError, match="not consented"):
        identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)


def test_only_the_owner_grants_and_each_bad_field_is_named(node: Node) -> None:
    person = _person(node)
    with pytest.raises(NotFoundError):
        identity_shares.grant_identity_share(node, FRENCH, person.id, {**GRANT, "to_jurisdiction": "NL"})
    with pytest.raises(InvalidInputError) as raised:
        identity_shares.grant_identity_share(
            node, GERMAN, person.id, {**GRANT, "to_jurisdiction": "ZZ", "expires_at": "2020-01-01T00:00:00Z"}
        )
    assert {error.loc for error in raised.value.errors} == {("to_jurisdiction",), ("expires_at",)}
    identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)
    with pytest.raises(ConflictError, match="already shared"):
        identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)


def test_the_receiving_side_lists_only_its_own_grants(node: Node) -> None:
    person = _person(node)
    identity_shares.grant_identity_share(node, GERMAN, person.id, GRANT)
    identity_shares.grant_identity_share(node, GERMAN, person.id, {**GRANT, "to_jurisdiction": "NL"})
    assert len(identity_shares.list_identity_shares(node, GERMAN, person.id)) == 2
    assert [s.to_jurisdiction for s in identity_shares.list_identity_shares(node, FRENCH, person.id)] == ["FR"]
    with pytest.raises(NotFoundError):
        identity_shares.list_identity_shares(node, Principal(None, "be", "officer", "BE"), person.id)
