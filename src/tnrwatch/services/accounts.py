"""Staff accounts and their personal API tokens: create, disable and enable accounts; create and check tokens.

A token is bound to one account and a scope: "write" may do whatever the account's role may, "read" may only read
(the API lets it GET and HEAD, nothing else). Disabling an account ends its staff sessions and revokes its tokens
at once, so that nothing it left behind keeps working.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from tnrwatch.crypto.tokens import display_prefix, is_well_formed, new_token, token_hash
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotAuthenticatedError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import ROLES, Principal
from tnrwatch.store.models import Account, ApiToken, Jurisdiction, StaffSession
from tnrwatch.store.types import utcnow

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# One message for every failed token check, so that a caller learns nothing about which tokens exist.
_BAD_TOKEN = "a valid API token is required: send it as `Authorization: Bearer TOKEN`"  # noqa: S105 (a message)
TOKEN_SCOPES = ("read", "write")


@dataclass(frozen=True)
class AccountOut:
    username: str
    role: str
    display_name: str
    disabled: bool
    created_at: dt.datetime
    jurisdiction: str | None = None


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once; only its hash is stored
    prefix: str
    username: str
    expires_at: dt.datetime | None
    scope: str = "write"


@dataclass(frozen=True)
class TokenGrant:
    """Who a token acts for, and what it may do on top of that account's role."""

    principal: Principal
    scope: str  # one of TOKEN_SCOPES


def add_account(
    node: Node,
    principal: Principal,
    username: str,
    role: str,
    display_name: str = "",
    jurisdiction: str | None = None,
) -> AccountOut:
    errors = []
    if not USERNAME_PATTERN.match(username):
        errors.append(
            FieldError(
                ("username",),
                "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            )
        )
    if role not in ROLES:
        errors.append(FieldError(("role",), f"unknown role {role!r}; valid roles: {', '.join(ROLES)}"))
    if errors:
        raise InvalidInputError("the account is invalid", errors)
    with node.store.writing() as session:
        if session.scalar(select(Account.id).where(Account.username == username)) is not None:
            raise ConflictError(f"an account named {username!r} already exists")
        if jurisdiction is not None and session.get(Jurisdiction, jurisdiction) is None:
            raise NotFoundError(f"no jurisdiction {jurisdiction!r}; `tnrwatch jurisdictions list` shows them")
        account = Account(
            username=username,
            role=role,
            display_name=display_name,
            jurisdiction_code=jurisdiction,
            created_at=utcnow(),
        )
        session.add(account)
        session.flush()
        record_change(
            session, principal, "create", "account", fields=["username", "role"], note=f"account {account.id}"
        )
        return _out(account)


def list_accounts(node: Node) -> list[AccountOut]:
    with node.store.reading() as session:
        return [_out(a) for a in session.scalars(select(Account).order_by(Account.username))]


def create_token(
    node: Node,
    principal: Principal,
    username: str,
    name: str = "",
    expires_in_days: int | None = None,
    scope: str = "write",
) -> NewToken:
    if scope not in TOKEN_SCOPES:
        raise InvalidInputError(
            "the token is invalid", [FieldError(("scope",), f"use one of: {', '.join(TOKEN_SCOPES)}")]
        )
    with node.store.writing() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise NotFoundError(f"no account named {username!r}; create it with `tnrwatch users add`")
        if account.disabled:
            raise InvalidInputError(f"the account {username!r} is disabled")
        token = new_token()
        now = utcnow()
        expires_at = now + dt.timedelta(days=expires_in_days) if expires_in_days else None
        session.add(
            ApiToken(
                account_id=account.id,
                token_hash=token_hash(token),
                prefix=display_prefix(token),
                name=name,
                scope=scope,
                created_at=now,
                expires_at=expires_at,
            )
        )
        record_change(session, principal, "create", "api_token", fields=["name", "scope"], note=f"account {account.id}")
        return NewToken(
            token=token, prefix=display_prefix(token), username=username, expires_at=expires_at, scope=scope
        )


def set_disabled(node: Node, principal: Principal, username: str, disabled: bool) -> AccountOut:
    """Disable an account, which also ends its staff sessions and revokes its API tokens (a later enable brings
    neither back: the person signs in again and gets new tokens); or enable it, which also lifts a lockout."""
    with node.store.writing() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise NotFoundError(f"no account named {username!r}")
        account.disabled = disabled
        if disabled:
            session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
            session.execute(
                update(ApiToken)
                .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        else:
            account.failed_sign_ins = 0
            account.locked_until = None
        action = "disable" if disabled else "enable"
        record_change(session, principal, action, "account", fields=["disabled"], note=f"account {account.id}")
        return _out(account)


def authenticate(node: Node, token: str) -> Principal:
    """The principal a bearer token stands for, whatever its scope (see `authenticate_token`)."""
    return authenticate_token(node, token).principal


def authenticate_token(node: Node, token: str) -> TokenGrant:
    """The principal a bearer token stands for and the token's scope; `NotAuthenticatedError` for a malformed,
    unknown, revoked or expired token or a disabled account, always with the same message."""
    if not is_well_formed(token):
        raise NotAuthenticatedError(_BAD_TOKEN)
    with node.store.reading() as session:
        found = session.execute(
            select(ApiToken, Account).join(Account).where(ApiToken.token_hash == token_hash(token))
        ).first()
    if found is None:
        raise NotAuthenticatedError(_BAD_TOKEN)
    api_token, account = found
    if api_token.revoked_at is not None or account.disabled:
        raise NotAuthenticatedError(_BAD_TOKEN)
    if api_token.expires_at is not None and api_token.expires_at <= utcnow():
        raise NotAuthenticatedError(_BAD_TOKEN)
    principal = Principal(
        account_id=account.id, username=account.username, role=account.role, jurisdiction=account.jurisdiction_code
    )
    return TokenGrant(principal, api_token.scope)


def _out(account: Account) -> AccountOut:
    return AccountOut(
        username=account.username,
        role=account.role,
        display_name=account.display_name,
        disabled=account.disabled,
        created_at=account.created_at,
        jurisdiction=account.jurisdiction_code,
    )
