"""Staff sign-in for the pages under /app: Argon2id passwords (argon2-cffi) and server-side sessions.

The session cookie holds 256 random bits; the database keeps only their SHA-256. A CSRF token for forms and fetches
is derived from the session secret (HMAC), so it needs no storage and dies with the session. The focal-point work
adds the second factor (TOTP), lockout and sign-out everywhere on top of this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from tnrwatch.errors import FieldError, InvalidInputError, NotAuthenticatedError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Account, StaffSession
from tnrwatch.store.types import utcnow

MIN_PASSWORD_CHARS = 12
_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name and a wrong password take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_BAD_SIGN_IN = "the username or password is wrong"


@dataclass(frozen=True)
class SignedIn:
    secret: str  # goes into the cookie, never stored
    principal: Principal
    expires_at: dt.datetime


def set_password(node: Node, principal: Principal, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            "the password is too short", [FieldError(("password",), f"use at least {MIN_PASSWORD_CHARS} characters")]
        )
    with node.store.writing() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise NotFoundError(f"no account named {username!r}")
        account.password_hash = _hasher.hash(password)
        session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
        record_change(session, principal, "update", "account", fields=["password"], note=f"account {account.id}")


def sign_in(node: Node, username: str, password: str) -> SignedIn:
    with node.store.reading() as session:
        account = session.scalar(select(Account).where(Account.username == username))
    stored = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticatedError(_BAD_SIGN_IN) from None
    if account is None or account.password_hash is None or account.disabled:
        raise NotAuthenticatedError(_BAD_SIGN_IN)
    secret = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(hours=node.settings.staff_session_hours)
    with node.store.writing() as session:
        session.execute(delete(StaffSession).where(StaffSession.expires_at < utcnow()))
        session.add(StaffSession(secret_hash=_digest(secret), account_id=account.id, expires_at=expires_at))
        principal = _principal(account)
        record_change(session, principal, "sign_in", "account", note=f"account {account.id}")
    return SignedIn(secret, principal, expires_at)


def session_principal(node: Node, secret: str) -> Principal:
    with node.store.reading() as session:
        found = session.execute(
            select(StaffSession, Account).join(Account).where(StaffSession.secret_hash == _digest(secret))
        ).first()
    if found is None:
        raise NotAuthenticatedError("please sign in")
    staff_session, account = found
    if staff_session.expires_at <= utcnow() or account.disabled:
        raise NotAuthenticatedError("your sign-in has expired; please sign in again")
    return _principal(account)


def sign_out(node: Node, secret: str) -> None:
    with node.store.writing() as session:
        session.execute(delete(StaffSession).where(StaffSession.secret_hash == _digest(secret)))


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"tnrwatch csrf", hashlib.sha256).hexdigest()


def check_csrf(secret: str, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(csrf_token(secret), token)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _principal(account: Account) -> Principal:
    return Principal(
        account_id=account.id, username=account.username, role=account.role, jurisdiction=account.jurisdiction_code
    )
