"""Staff sign-in for the pages under /app: Argon2id passwords (argon2-cffi), a TOTP second factor for every role,
lockout with backoff, and server-side sessions.

The session cookie holds 256 random bits; the database keeps only their SHA-256. A CSRF token for forms and fetches
is derived from the session secret (HMAC), so it needs no storage and dies with the session. The TOTP secret is kept
sealed with the node's vault key, bound to its account, so a database dump alone yields no second factor.

Every failed sign-in gets the same answer whichever factor was wrong, and a wrong username costs the same Argon2id
verification as a wrong password. After `MAX_FAILURES` failures in a row sign-in is refused for a while, even with
the right password and code; the pause doubles with each further lockout (`lockout_after`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from tnrwatch.crypto import totp
from tnrwatch.crypto.vault import Sealed
from tnrwatch.errors import FieldError, InvalidInputError, NotAuthenticatedError, NotFoundError, TooManyRequestsError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Account, StaffSession
from tnrwatch.store.types import utcnow

MIN_PASSWORD_CHARS = 12
MAX_FAILURES = 5
FIRST_LOCKOUT = dt.timedelta(minutes=1)
LONGEST_LOCKOUT = dt.timedelta(hours=1)

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name and a wrong password take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_BAD_SIGN_IN = "the username, password or code is wrong"
_LOCKED = "too many failed sign-ins: sign-in is paused for this account; try again later"
_NO_SECOND_FACTOR = (
    "this account has no second factor yet: ask an administrator to run `tnrwatch users reset-2fa` "
    "and add the secret it prints to your authenticator app"
)
# Whoever tries a username that does not exist: recorded, to see password spraying, under no account.
_NOBODY = Principal(account_id=None, username="unknown", role="none")


class NotEnrolledError(NotAuthenticatedError):
    """The password was right but the account has no second factor: only an administrator can fix that."""


@dataclass(frozen=True)
class SignedIn:
    secret: str  # goes into the cookie, never stored
    principal: Principal
    expires_at: dt.datetime


@dataclass(frozen=True)
class TotpEnrolment:
    """A new second factor, shown once to whoever enrols it; only its sealed form is stored."""

    username: str
    secret: str  # base32, for typing into an authenticator app
    uri: str  # otpauth://, for a QR code


def lockout_after(failures: int) -> dt.timedelta | None:
    """How long sign-in pauses after `failures` failures in a row: not at all until the 5th, then 1 minute at every
    5th failure, doubling with each further lockout (10th: 2 minutes, 15th: 4 minutes ...) up to an hour."""
    if failures < MAX_FAILURES or failures % MAX_FAILURES:
        return None
    doublings = min(failures // MAX_FAILURES - 1, 6)  # 2**6 minutes already passes the hour
    return min(FIRST_LOCKOUT * (1 << doublings), LONGEST_LOCKOUT)


# -- enrolment ---------------------------------------------------------------------------------------------------------


def set_password(node: Node, principal: Principal, username: str, password: str) -> TotpEnrolment | None:
    """Set the password and end the account's sessions. An account without a second factor is enrolled in the same
    transaction: the new secret is returned (show it once); `None` when the account already had one."""
    check_password(password)
    with node.store.writing() as session:
        account = _account(session, username)
        account.password_hash = _hasher.hash(password)
        _end_sessions(session, account.id)
        fields = ["password"]
        enrolment = None
        if account.totp_secret is None:
            enrolment = _enrol(node, account)
            fields.append("totp_secret")
        record_change(session, principal, "update", "account", fields=fields, note=f"account {account.id}")
    return enrolment


def check_password(password: str) -> None:
    """`InvalidInputError` for a password the staff pages would not accept."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            "the password is too short", [FieldError(("password",), f"use at least {MIN_PASSWORD_CHARS} characters")]
        )


def reset_totp(node: Node, principal: Principal, username: str) -> TotpEnrolment:
    """Give the account a new TOTP secret (the old one stops working) and end its sessions: for a lost or
    compromised phone, or an account that never had one."""
    with node.store.writing() as session:
        account = _account(session, username)
        enrolment = _enrol(node, account)
        _end_sessions(session, account.id)
        record_change(session, principal, "update", "account", fields=["totp_secret"], note=f"account {account.id}")
    return enrolment


def _enrol(node: Node, account: Account) -> TotpEnrolment:
    secret = totp.new_secret()
    account.totp_secret = node.vault.seal(secret.encode(), _totp_context(account.id)).to_bytes()
    account.totp_last_step = None
    return TotpEnrolment(account.username, secret, totp.provisioning_uri(secret, account.username))


def _account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError(f"no account named {username!r}")
    return account


# -- signing in --------------------------------------------------------------------------------------------------------


def sign_in(node: Node, username: str, password: str, code: str, *, now: dt.datetime | None = None) -> SignedIn:
    """Open a session for username + password + TOTP code. `NotAuthenticatedError` with one message for any wrong
    factor (a second message, after a right password, for an account never enrolled); `TooManyRequestsError` while
    the account is locked out, even for right answers. `now` is for tests."""
    now = now or utcnow()
    with node.store.reading() as session:
        account = session.scalar(select(Account).where(Account.username == username))
    password_ok = _verify_password(account.password_hash if account is not None else None, password)
    if account is None:
        _record_failure(node, None, now)
        raise NotAuthenticatedError(_BAD_SIGN_IN)
    if account.locked_until is not None and account.locked_until > now:
        raise TooManyRequestsError(_LOCKED)
    if not password_ok or account.disabled:
        _record_failure(node, account, now)
        raise NotAuthenticatedError(_BAD_SIGN_IN)
    if account.totp_secret is None:
        raise NotEnrolledError(_NO_SECOND_FACTOR)
    step = totp.matching_step(_totp_secret(node, account), code, now)
    signed_in = _open_session(node, account, step, now) if step is not None else None
    if signed_in is None:  # a wrong code, a replayed one, or a lockout that another attempt set meanwhile
        _record_failure(node, account, now)
        raise NotAuthenticatedError(_BAD_SIGN_IN)
    return signed_in


def _verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _open_session(node: Node, account: Account, step: int, now: dt.datetime) -> SignedIn | None:
    """Accept the code's time step and open a session, or return `None` when the step was used already.

    One conditional UPDATE both claims the step and clears the failure count, so two requests racing with the same
    code cannot both win, on SQLite or PostgreSQL."""
    claim = (
        update(Account)
        .where(
            Account.id == account.id,
            Account.disabled.is_(False),
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
            or_(Account.locked_until.is_(None), Account.locked_until <= now),
        )
        .values(totp_last_step=step, failed_sign_ins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=node.settings.staff_session_hours)
    principal = _principal(account)
    with node.store.writing() as session:
        if cast(CursorResult[Any], session.execute(claim)).rowcount != 1:
            return None
        session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        session.add(StaffSession(secret_hash=_digest(secret), account_id=account.id, expires_at=expires_at))
        record_change(session, principal, "sign_in", "account", note=f"account {account.id}")
    return SignedIn(secret, principal, expires_at)


def _record_failure(node: Node, account: Account | None, now: dt.datetime) -> None:
    """Count a failed sign-in and lock the account when `lockout_after` says so. Notes name the account by id only."""
    with node.store.writing() as session:
        if account is None:
            record_change(session, _NOBODY, "sign_in_failed", "account", note="unknown account")
            return
        session.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(failed_sign_ins=Account.failed_sign_ins + 1)
            .execution_options(synchronize_session=False)
        )
        failures = session.scalar(select(Account.failed_sign_ins).where(Account.id == account.id)) or 0
        principal = _principal(account)
        record_change(session, principal, "sign_in_failed", "account", note=f"account {account.id}")
        pause = lockout_after(failures)
        if pause is not None:
            session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(locked_until=now + pause)
                .execution_options(synchronize_session=False)
            )
            minutes = int(pause.total_seconds()) // 60
            note = f"account {account.id}: {failures} failures in a row, locked for {minutes} min"
            record_change(session, principal, "lock", "account", note=note)


def _totp_secret(node: Node, account: Account) -> str:
    assert account.totp_secret is not None
    return node.vault.open_sealed(Sealed.from_bytes(account.totp_secret), _totp_context(account.id)).decode()


def _totp_context(account_id: int) -> bytes:
    """Associated data: a sealed secret copied onto another account's row does not open there."""
    return f"tnrwatch totp secret of account {account_id}".encode()


# -- sessions ----------------------------------------------------------------------------------------------------------


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


def sign_out_everywhere(node: Node, principal: Principal) -> int:
    """End every session of the principal's account, in every browser; return how many there were."""
    if principal.account_id is None:
        raise InvalidInputError("only a staff account has sessions to end")
    with node.store.writing() as session:
        ended = _end_sessions(session, principal.account_id)
        record_change(
            session, principal, "sign_out_everywhere", "account", count=ended, note=f"account {principal.account_id}"
        )
    return ended


def _end_sessions(session: Session, account_id: int) -> int:
    result = cast(CursorResult[Any], session.execute(delete(StaffSession).where(StaffSession.account_id == account_id)))
    return result.rowcount


# -- CSRF --------------------------------------------------------------------------------------------------------------


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
