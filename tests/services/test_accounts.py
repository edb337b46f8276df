from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from tnrwatch.crypto.tokens import new_token
from tnrwatch.errors import ConflictError, InvalidInputError, NotAuthenticatedError, NotFoundError
from tnrwatch.services import accounts
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Account, ApiToken


def test_tokens_authenticate_and_are_stored_hashed(node: Node, operator: Principal) -> None:
    accounts.add_account(node, operator, "ana", "analyst", "Ana")
    created = accounts.create_token(node, operator, "ana", name="laptop")
    principal = accounts.authenticate(node, created.token)
    assert (principal.username, principal.role) == ("ana", "analyst")
    with node.store.reading() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert created.token not in stored
    assert len(stored[0]) == 64


@pytest.mark.parametrize("breakage", ["revoked", "expired", "disabled", "unknown", "malformed"])
def test_bad_tokens_all_get_the_same_answer(node: Node, operator: Principal, breakage: str) -> None:
    accounts.add_account(node, operator, "ana", "analyst")
    token = accounts.create_token(node, operator, "ana").token
    with node.store.writing() as session:
        past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        if breakage == "revoked":
            session.execute(update(ApiToken).values(revoked_at=past))
        if breakage == "expired":
            session.execute(update(ApiToken).values(expires_at=past))
        if breakage == "disabled":
            session.execute(update(Account).values(disabled=True))
    if breakage == "unknown":
        token = new_token()
    if breakage == "malformed":
        token = token[:-2]
    with pytest.raises(NotAuthenticatedError) as caught:
        accounts.authenticate(node, token)
    assert "a valid API token is required" in caught.value.message


def test_account_rules(node: Node, operator: Principal) -> None:
    with pytest.raises(InvalidInputError) as caught:
        accounts.add_account(node, operator, "Bad Name", "wizard")
    assert {error.loc for error in caught.value.errors} == {("username",), ("role",)}
    accounts.add_account(node, operator, "ana", "analyst")
    with pytest.raises(ConflictError):
        accounts.add_account(node, operator, "ana", "officer")
    with pytest.raises(NotFoundError):
        accounts.create_token(node, operator, "nobody")


def test_token_expiry_is_set(node: Node, operator: Principal) -> None:
    accounts.add_account(node, operator, "ana", "analyst")
    created = accounts.create_token(node, operator, "ana", expires_in_days=30)
    assert created.expires_at is not None
    assert dt.timedelta(days=29) < created.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)


def test_token_scopes(node: Node, operator: Principal) -> None:
    accounts.add_account(node, operator, "ana", "analyst")
    default = accounts.create_token(node, operator, "ana")
    read = accounts.create_token(node, operator, "ana", scope="read")
    assert (default.scope, read.scope) == ("write", "read")
    assert accounts.authenticate_token(node, default.token).scope == "write"
    grant = accounts.authenticate_token(node, read.token)
    assert (grant.scope, grant.principal.username) == ("read", "ana")
    with pytest.raises(InvalidInputError) as caught:
        accounts.create_token(node, operator, "ana", scope="admin")
    assert caught.value.errors[0].loc == ("scope",)


def test_a_disabled_account_cannot_get_tokens_and_loses_its_own(node: Node, operator: Principal) -> None:
    accounts.add_account(node, operator, "ana", "analyst")
    tokens = [accounts.create_token(node, operator, "ana").token for _ in range(2)]
    accounts.set_disabled(node, operator, "ana", disabled=True)
    with node.store.reading() as session:
        assert all(session.scalars(select(ApiToken.revoked_at)).all())
    with pytest.raises(InvalidInputError):
        accounts.create_token(node, operator, "ana")
    accounts.set_disabled(node, operator, "ana", disabled=False)
    for token in tokens:
        with pytest.raises(NotAuthenticatedError):
            accounts.authenticate(node, token)
    with pytest.raises(NotFoundError):
        accounts.set_disabled(node, operator, "nobody", disabled=True)
