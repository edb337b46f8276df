"""`tnrwatch users add|password|reset-2fa|disable|enable` and `tokens create --scope`, through the real Typer app on
both databases. Secrets come out once on stdout; the commands never print them to stderr."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.crypto import totp
from tnrwatch.errors import NotAuthenticatedError
from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings

PASSWORD = "a long enough password"
NOW = dt.datetime(2030, 5, 1, 12, 0, 15, tzinfo=dt.UTC)


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    assert settings.database_url is not None
    return CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


def enrolment(stdout: str) -> tuple[str, str]:
    secret, uri = stdout.strip().splitlines()
    return secret, uri


def test_add_with_a_password_enrols_the_second_factor(runner: CliRunner, node: Node, password_file: Path) -> None:
    args = ["users", "add", "olga", "--role", "officer", "-j", "DE", "--password-file", str(password_file)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    secret, uri = enrolment(result.stdout)
    assert uri.startswith("otpauth://totp/tnrwatch:olga?secret=" + secret)
    assert "issuer=tnrwatch" in uri
    assert secret not in result.stderr
    assert "authenticator app" in result.stderr
    staff_auth.sign_in(node, "olga", PASSWORD, totp.code_at(secret, NOW), now=NOW)

    again = runner.invoke(app, ["users", "password", "olga", "--password-file", str(password_file)])
    assert again.exit_code == 0, again.output
    assert again.stdout == ""  # already enrolled: no new secret


def test_a_short_password_leaves_no_account(runner: CliRunner, node: Node, tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("short\n")
    result = runner.invoke(app, ["users", "add", "olga", "--role", "analyst", "--password-file", str(short)])
    assert result.exit_code == 2
    assert "too short" in result.stderr
    assert accounts.list_accounts(node) == []


def test_reset_2fa_prints_a_new_secret_that_replaces_the_old(
    runner: CliRunner, node: Node, password_file: Path
) -> None:
    first = runner.invoke(app, ["users", "add", "ana", "--role", "analyst", "--password-file", str(password_file)])
    old, _ = enrolment(first.stdout)
    reset = runner.invoke(app, ["users", "reset-2fa", "ana"])
    assert reset.exit_code == 0, reset.output
    new, _ = enrolment(reset.stdout)
    assert new != old
    assert "shown once" in reset.stderr
    with pytest.raises(NotAuthenticatedError):
        staff_auth.sign_in(node, "ana", PASSWORD, totp.code_at(old, NOW), now=NOW)
    staff_auth.sign_in(node, "ana", PASSWORD, totp.code_at(new, NOW), now=NOW)
    assert runner.invoke(app, ["users", "reset-2fa", "nobody"]).exit_code == 2


def test_disable_and_enable(runner: CliRunner, node: Node) -> None:
    assert runner.invoke(app, ["users", "add", "ana", "--role", "analyst"]).exit_code == 0
    token = runner.invoke(app, ["tokens", "create", "ana"]).stdout.strip()
    assert accounts.authenticate(node, token).username == "ana"
    disabled = runner.invoke(app, ["users", "disable", "ana"])
    assert disabled.exit_code == 0, disabled.output
    assert "revoked" in disabled.stderr
    with pytest.raises(NotAuthenticatedError):
        accounts.authenticate(node, token)
    assert "yes" in runner.invoke(app, ["users", "list"], terminal_width=200).stdout
    enabled = runner.invoke(app, ["users", "enable", "ana"])
    assert enabled.exit_code == 0, enabled.output
    assert not accounts.list_accounts(node)[0].disabled


def test_tokens_create_with_a_scope(runner: CliRunner, node: Node) -> None:
    assert runner.invoke(app, ["users", "add", "ana", "--role", "analyst"]).exit_code == 0
    result = runner.invoke(app, ["tokens", "create", "ana", "--scope", "read"])
    assert result.exit_code == 0, result.output
    assert "scope read" in result.stderr
    assert accounts.authenticate_token(node, result.stdout.strip()).scope == "read"
    wrong = runner.invoke(app, ["tokens", "create", "ana", "--scope", "everything"])
    assert wrong.exit_code == 2
    assert "scope" in wrong.stderr
