"""Persons: identities sealed at rest, never listed, read only by caseworkers and recorded when read."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text, update

from tnrwatch.crypto.vault import VaultError
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError
from tnrwatch.services import persons
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry, Person, PersonIdentity

OFFICER = Principal(account_id=None, username="off", role="officer")
ANALYST = Principal(account_id=None, username="ana", role="analyst")
IDENTITY = {
    "full_name": "Zarina Example-Name",
    "other_names": ["Зарина"],
    "nationalities": ["TJ"],
    "date_of_birth": "1988-04-02",
}


def test_identity_is_sealed_at_rest(node: Node) -> None:
    person = persons.create_person(node, OFFICER, {"at_risk": True, "identity": IDENTITY})
    assert person.pseudonym.startswith("P-")
    assert person.has_identity
    assert person.identity is None
    with node.store.reading() as session:
        blob = session.execute(text("SELECT ciphertext FROM person_identity")).scalar_one()
        dumped = " ".join(str(row) for row in session.execute(text("SELECT * FROM person")))
    assert b"Zarina" not in bytes(blob)
    assert "Example" not in dumped


def test_lists_never_carry_identities(node: Node) -> None:
    persons.create_person(node, OFFICER, {"identity": IDENTITY})
    listed = persons.list_persons(node, OFFICER)
    assert len(listed) == 1
    assert listed[0].identity is None
    assert listed[0].has_identity


def test_identity_read_needs_a_caseworker_and_is_recorded(node: Node) -> None:
    person = persons.create_person(node, OFFICER, {"identity": IDENTITY})
    with pytest.raises(ForbiddenError):
        persons.get_person(node, ANALYST, person.id, with_identity=True)
    opened = persons.get_person(node, OFFICER, person.id, with_identity=True)
    assert opened.identity is not None
    assert opened.identity.full_name == "Zarina Example-Name"
    with node.store.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_uuid == person.id)).all()
    assert "read-identity" in actions


def test_identity_moved_to_another_person_does_not_open(node: Node) -> None:
    first = persons.create_person(node, OFFICER, {"identity": IDENTITY})
    second = persons.create_person(node, OFFICER, {"identity": {"full_name": "Other Person"}})
    with node.store.writing() as session:
        ids = dict(session.execute(select(Person.uuid, Person.id)).all())
        stolen = session.scalar(select(PersonIdentity.ciphertext).where(PersonIdentity.person_id == ids[first.id]))
        session.execute(
            update(PersonIdentity).where(PersonIdentity.person_id == ids[second.id]).values(ciphertext=stolen)
        )
    with pytest.raises(VaultError):
        persons.get_person(node, OFFICER, second.id, with_identity=True)


def test_analysts_may_not_create_identities(node: Node) -> None:
    with pytest.raises(ForbiddenError):
        persons.create_person(node, ANALYST, {"identity": IDENTITY})


def test_pseudonyms_and_ids_are_unique(node: Node) -> None:
    given = uuid.uuid4()
    persons.create_person(node, OFFICER, {"id": str(given), "pseudonym": "P-ONE"})
    with pytest.raises(ConflictError):
        persons.create_person(node, OFFICER, {"pseudonym": "P-ONE"})
    with pytest.raises(ConflictError):
        persons.create_person(node, OFFICER, {"id": str(given)})


def test_bad_identity_fields_are_reported(node: Node) -> None:
    with pytest.raises(InvalidInputError) as caught:
        persons.create_person(node, OFFICER, {"identity": {"full_name": "", "nationalities": ["XX"]}})
    assert {error.loc for error in caught.value.errors} == {("identity", "full_name"), ("identity", "nationalities", 0)}
