"""Partner nodes: registering (every bad field named), listing, disabling; tokens shown once and kept as SHA-256 only,
revoked one by one or all at once; authentication that says nothing about why it failed; every act audited. Both
databases."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from tnrwatch.crypto import tokens
from tnrwatch.domain.sharing import PartnerView
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import audit, partners
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import PartnerToken

OPERATOR = Principal.operator()
KEY_HEX = "ab" * 32


def test_add_list_and_get_a_partner(node: Node) -> None:
    added = partners.add_partner(
        node, OPERATOR, "fr-node", "amber", client=True, taxii_url="https://fr.example/taxii2/api", public_key=KEY_HEX
    )
    assert added.taxii_url == "https://fr.example/taxii2/api/"  # an API root ends with a slash
    assert added.public_key == KEY_HEX
    partners.add_partner(node, OPERATOR, "ngo-watch", "green")
    assert [(p.name, p.clearance, p.client) for p in partners.list_partners(node)] == [
        ("fr-node", "amber", True),
        ("ngo-watch", "green", False),
    ]
    assert partners.get_partner(node, "ngo-watch").view() == PartnerView("ngo-watch", "green", client=False)
    with pytest.raises(ConflictError, match="already exists"):
        partners.add_partner(node, OPERATOR, "fr-node", "red")
    with pytest.raises(NotFoundError):
        partners.get_partner(node, "nobody")


def test_a_base64_key_as_stix_public_key_prints_it_is_kept_as_hex(node: Node) -> None:
    raw = bytes(range(32))
    added = partners.add_partner(node, OPERATOR, "de-node", "red", public_key=base64.b64encode(raw).decode())
    assert added.public_key == raw.hex()


def test_every_bad_field_is_named_at_once(node: Node) -> None:
    with pytest.raises(InvalidInputError) as caught:
        partners.add_partner(node, OPERATOR, "Bad Name!", "purple", taxii_url="ftp://x", public_key="abcd")
    assert [error.loc for error in caught.value.errors] == [("name",), ("clearance",), ("taxii_url",), ("public_key",)]
    assert partners.list_partners(node) == []


def test_only_the_operator_manages_partners(node: Node) -> None:
    for role in ("admin", "analyst", "officer"):
        principal = Principal(None, "someone", role, "DE" if role == "officer" else None)
        with pytest.raises(ForbiddenError):
            partners.add_partner(node, principal, "x", "green")


def test_a_token_is_shown_once_stored_as_its_hash_and_authenticates(node: Node) -> None:
    partners.add_partner(node, OPERATOR, "fr-node", "amber", client=True)
    created = partners.create_token(node, OPERATOR, "fr-node")
    assert created.token.startswith("tnp_")
    assert created.prefix == created.token[:10]
    with node.store.reading() as session:
        stored = session.scalars(select(PartnerToken)).one()
    assert stored.token_hash == tokens.token_hash(created.token)
    assert created.token not in (stored.token_hash, stored.prefix)
    assert partners.authenticate(node, created.token) == PartnerView("fr-node", "amber", client=True)
    assert partners.authenticate(node, created.token, name="fr-node") is not None
    assert partners.authenticate(node, created.token, name="other") is None  # HTTP Basic with another name
    assert partners.get_partner(node, "fr-node").active_tokens == 1


def test_malformed_unknown_revoked_and_disabled_tokens_fail_alike(node: Node) -> None:
    partners.add_partner(node, OPERATOR, "fr-node", "amber")
    first = partners.create_token(node, OPERATOR, "fr-node").token
    second = partners.create_token(node, OPERATOR, "fr-node").token
    assert partners.authenticate(node, first[:-1] + ("0" if first[-1] != "0" else "1")) is None  # checksum
    assert partners.authenticate(node, tokens.new_token(tokens.PARTNER_TOKEN_PREFIX)) is None  # well formed, unknown
    assert partners.authenticate(node, "") is None

    assert partners.revoke_tokens(node, OPERATOR, "fr-node", prefix=first[:10]) == 1
    assert partners.authenticate(node, first) is None
    assert partners.authenticate(node, second) is not None
    with pytest.raises(NotFoundError, match="no token in force"):
        partners.revoke_tokens(node, OPERATOR, "fr-node", prefix=first[:10])

    partners.set_disabled(node, OPERATOR, "fr-node", disabled=True)
    assert partners.authenticate(node, second) is None
    with pytest.raises(ConflictError, match="disabled"):
        partners.create_token(node, OPERATOR, "fr-node")
    partners.set_disabled(node, OPERATOR, "fr-node", disabled=False)
    assert partners.authenticate(node, second) is not None
    assert partners.revoke_tokens(node, OPERATOR, "fr-node") == 1
    assert partners.authenticate(node, second) is None


def test_active_partners_leave_out_the_disabled(node: Node) -> None:
    partners.add_partner(node, OPERATOR, "a-node", "green")
    partners.add_partner(node, OPERATOR, "b-node", "red")
    partners.set_disabled(node, OPERATOR, "a-node")
    with node.store.reading() as session:
        assert [p.name for p in partners.active_partners(session)] == ["b-node"]


def test_every_act_is_audited_without_the_token(node: Node) -> None:
    partners.add_partner(node, OPERATOR, "fr-node", "amber")
    token = partners.create_token(node, OPERATOR, "fr-node").token
    partners.revoke_tokens(node, OPERATOR, "fr-node")
    partners.set_disabled(node, OPERATOR, "fr-node")
    entries = audit.list_entries(node, OPERATOR, limit=20).items
    acts = [(entry.action, entry.entity) for entry in entries]
    expected = [("create", "partner"), ("create", "partner_token"), ("revoke", "partner_token"), ("disable", "partner")]
    assert all(act in acts for act in expected)
    assert all(token not in repr(entry) for entry in entries)
