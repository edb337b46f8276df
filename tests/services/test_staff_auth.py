"""Staff sign-in: the TOTP second factor, replay, lockout with backoff, reset-2fa, sign-out everywhere and disabling,
on both databases. Time is passed in explicitly (`now`), so nothing sleeps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tnrwatch.crypto import totp
from tnrwatch.errors import NotAuthenticatedError, NotFoundError, TooManyRequestsError
from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Account, StaffSession

PASSWORD = "correct horse battery staple"
T0 = dt.datetime(2030, 5, 1, 12, 0, 15, tzinfo=dt.UTC)  # 15 s into a time step
STEP = dt.timedelta(seconds=totp.STEP_SECONDS)
BAD = "the username, password or code is wrong"


def enrolled(node: Node, operator: Principal, username: str = "olga", role: str = "officer") -> str:
    """A new account with a password; returns its TOTP secret."""
    accounts.add_account(node, operator, username, role, jurisdiction="DE" if role == "officer" else None)
    enrolment = staff_auth.set_password(node, operator, username, PASSWORD)
    assert enrolment is not None
    return enrolment.secret


def refused(node: Node, code: str, at: dt.datetime, password: str = PASSWORD, username: str = "olga") -> str:
    with pytest.raises(NotAuthenticatedError) as caught:
        staff_auth.sign_in(node, username, password, code, now=at)
    return caught.value.message


def account(node: Node, username: str = "olga") -> Account:
    with node.store.reading() as session:
        found = session.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def sessions(node: Node) -> int:
    with node.store.reading() as session:
        return len(session.scalars(select(StaffSession)).all())


# -- the second factor -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "analyst", "auditor", "admin"])
def test_every_role_signs_in_with_the_right_code(node: Node, operator: Principal, role: str) -> None:
    secret = enrolled(node, operator, "staff", role)
    signed_in = staff_auth.sign_in(node, "staff", PASSWORD, totp.code_at(secret, T0), now=T0)
    assert signed_in.principal.username == "staff"
    assert signed_in.principal.role == role
    assert staff_auth.session_principal(node, signed_in.secret).username == "staff"


def test_the_secret_is_stored_sealed(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    stored = account(node).totp_secret
    assert stored is not None
    assert secret.encode() not in stored
    assert totp.provisioning_uri(secret, "olga").startswith("otpauth://totp/tnrwatch:olga?secret=")
    assert "issuer=tnrwatch" in totp.provisioning_uri(secret, "olga")


def test_codes_one_step_either_side_are_accepted(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0 - STEP), now=T0)
    staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0 + 2 * STEP), now=T0 + STEP)


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_no_code_or_a_malformed_one_is_refused(node: Node, operator: Principal, code: str) -> None:
    enrolled(node, operator)
    assert refused(node, code, T0) == BAD


def test_a_wrong_code_gets_the_same_answer_as_a_wrong_password(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    right = totp.code_at(secret, T0)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert refused(node, wrong, T0) == refused(node, right, T0, password="not the password") == BAD
    assert refused(node, right, T0, username="nobody") == BAD
    assert sessions(node) == 0


def test_a_code_two_steps_old_is_refused(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    assert refused(node, totp.code_at(secret, T0 - 2 * STEP), T0) == BAD
    assert refused(node, totp.code_at(secret, T0 + 2 * STEP), T0) == BAD


def test_a_code_is_good_once(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    code = totp.code_at(secret, T0)
    staff_auth.sign_in(node, "olga", PASSWORD, code, now=T0)
    assert refused(node, code, T0 + dt.timedelta(seconds=5)) == BAD  # the same code, still in its window
    # An older step than the one accepted is refused as well, though it is still within the window.
    assert refused(node, totp.code_at(secret, T0 - STEP), T0 + dt.timedelta(seconds=5)) == BAD
    staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0 + STEP), now=T0 + STEP)
    assert sessions(node) == 2


def test_an_account_without_a_second_factor_cannot_sign_in(node: Node, operator: Principal) -> None:
    enrolled(node, operator)
    with node.store.writing() as session:
        found = session.scalar(select(Account).where(Account.username == "olga"))
        assert found is not None
        found.totp_secret = None
    assert "reset-2fa" in refused(node, "000000", T0)
    assert refused(node, "000000", T0, password="not the password") == BAD  # the hint needs the password


def test_set_password_enrols_once(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    assert staff_auth.set_password(node, operator, "olga", "another long password") is None
    staff_auth.sign_in(node, "olga", "another long password", totp.code_at(secret, T0), now=T0)


def test_reset_2fa_replaces_the_secret_and_ends_sessions(node: Node, operator: Principal) -> None:
    old = enrolled(node, operator)
    signed_in = staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(old, T0), now=T0)
    new = staff_auth.reset_totp(node, operator, "olga")
    assert new.secret != old
    assert new.uri == totp.provisioning_uri(new.secret, "olga")
    with pytest.raises(NotAuthenticatedError):
        staff_auth.session_principal(node, signed_in.secret)
    later = T0 + 3 * STEP
    assert refused(node, totp.code_at(old, later), later) == BAD
    staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(new.secret, later), now=later)
    with pytest.raises(NotFoundError):
        staff_auth.reset_totp(node, operator, "nobody")


# -- lockout -----------------------------------------------------------------------------------------------------------


def fail(node: Node, times: int, at: dt.datetime) -> None:
    for _ in range(times):
        assert refused(node, "000000", at, password="not the password") == BAD


def locked(node: Node, secret: str, at: dt.datetime) -> bool:
    try:
        staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, at), now=at)
    except TooManyRequestsError as exc:
        return "try again later" in exc.message
    return False


def test_lockout_schedule() -> None:
    minutes = {n: staff_auth.lockout_after(n) for n in (1, 4, 5, 6, 10, 15, 20, 25, 30, 35, 500)}
    assert minutes[1] is minutes[4] is minutes[6] is None
    assert [minutes[n] for n in (5, 10, 15, 20, 25, 30, 35, 500)] == [
        dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)
    ]


def test_five_failures_lock_even_the_right_answers_out(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    fail(node, 4, T0)
    assert account(node).locked_until is None
    fail(node, 1, T0)
    assert account(node).failed_sign_ins == 5
    assert locked(node, secret, T0 + dt.timedelta(seconds=59))
    assert sessions(node) == 0
    assert not locked(node, secret, T0 + dt.timedelta(seconds=61))  # a minute later: in, and the count is reset
    assert (account(node).failed_sign_ins, account(node).locked_until) == (0, None)


def test_the_pause_doubles_with_each_further_lockout(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    fail(node, 5, T0)  # 1 minute
    at = T0 + dt.timedelta(minutes=1, seconds=1)
    fail(node, 5, at)  # 2 minutes
    assert locked(node, secret, at + dt.timedelta(minutes=1, seconds=59))
    at += dt.timedelta(minutes=2, seconds=1)
    fail(node, 5, at)  # 4 minutes
    assert account(node).locked_until == at + dt.timedelta(minutes=4)
    assert locked(node, secret, at + dt.timedelta(minutes=3))
    assert not locked(node, secret, at + dt.timedelta(minutes=4, seconds=1))
    fail(node, 4, at + dt.timedelta(minutes=5))  # the count started again after the success
    assert account(node).locked_until is None


def test_failed_codes_count_towards_lockout(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    code = totp.code_at(secret, T0)
    staff_auth.sign_in(node, "olga", PASSWORD, code, now=T0)
    for _ in range(5):
        refused(node, code, T0)  # replays
    assert locked(node, secret, T0 + STEP)


def test_sign_in_failures_and_lockouts_are_recorded_without_names(node: Node, operator: Principal) -> None:
    enrolled(node, operator)
    fail(node, 5, T0)
    refused(node, "000000", T0, username="nobody")
    from tnrwatch.store import models  # the audit model is renamed by the audit-log work; look it up by table

    table = next(t for t in models.Base.metadata.sorted_tables if t.name in {"audit_entry", "change"})
    with node.store.reading() as session:
        rows = session.execute(select(table.c.action, table.c.note)).all()
    actions = [row.action for row in rows]
    assert actions.count("sign_in_failed") == 6
    assert actions.count("lock") == 1
    notes = " ".join(row.note for row in rows)
    assert "olga" not in notes
    assert "nobody" not in notes
    assert f"account {account(node).id}" in notes


# -- ending sessions ---------------------------------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_the_account(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    other = enrolled(node, operator, "dieter")
    first = staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0), now=T0)
    second = staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0 + STEP), now=T0 + STEP)
    theirs = staff_auth.sign_in(node, "dieter", PASSWORD, totp.code_at(other, T0), now=T0)
    assert staff_auth.sign_out_everywhere(node, first.principal) == 2
    for ended in (first, second):
        with pytest.raises(NotAuthenticatedError):
            staff_auth.session_principal(node, ended.secret)
    assert staff_auth.session_principal(node, theirs.secret).username == "dieter"


def test_disable_ends_sessions_and_revokes_tokens(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    signed_in = staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0), now=T0)
    token = accounts.create_token(node, operator, "olga").token
    assert accounts.authenticate(node, token).username == "olga"

    assert accounts.set_disabled(node, operator, "olga", disabled=True).disabled
    with pytest.raises(NotAuthenticatedError):
        staff_auth.session_principal(node, signed_in.secret)
    with pytest.raises(NotAuthenticatedError):
        accounts.authenticate(node, token)
    assert refused(node, totp.code_at(secret, T0 + STEP), T0 + STEP) == BAD

    assert not accounts.set_disabled(node, operator, "olga", disabled=False).disabled
    with pytest.raises(NotAuthenticatedError):
        accounts.authenticate(node, token)  # revoked for good
    staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, T0 + 2 * STEP), now=T0 + 2 * STEP)


def test_enable_lifts_a_lockout(node: Node, operator: Principal) -> None:
    secret = enrolled(node, operator)
    fail(node, 5, T0)
    accounts.set_disabled(node, operator, "olga", disabled=False)
    assert not locked(node, secret, T0 + dt.timedelta(seconds=10))
