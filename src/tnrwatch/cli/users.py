"""`tnrwatch users` and `tnrwatch tokens`: staff accounts, their second factor and their personal API tokens.

Secrets (a token, a TOTP secret) are printed once, on stdout without Rich, so that a script can capture them; what
they are and what to do with them goes to stderr. Neither is ever logged.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tnrwatch.cli.common import err, handle_errors, load_settings, out
from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import ROLES, Principal

users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)


_READ_FROM_FILE_HELP = "Read the password from the first line of this file instead of asking."


@users_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Lower-case letters, digits, '.', '_' or '-'."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    display_name: str = typer.Option("", "--name", help="A name colleagues recognise."),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", "-j", help="The focal point the account serves."),
    password: bool = typer.Option(
        False, "--password", help="Also ask for a password for the staff pages, and enrol the second factor."
    ),
    password_file: Path | None = typer.Option(
        None, "--password-file", help=_READ_FROM_FILE_HELP + " Implies --password."
    ),
) -> None:
    """Create a staff account; with --password or --password-file, ready to sign in (the TOTP secret is printed
    once)."""
    with handle_errors():
        new_password = _read_password(password_file) if password or password_file else None
        if new_password is not None:
            staff_auth.check_password(new_password)  # before the account exists, so a refusal leaves nothing behind
        node = Node.open(load_settings())
        try:
            account = accounts.add_account(node, Principal.operator(), username, role, display_name, jurisdiction)
            enrolment = None
            if new_password is not None:
                enrolment = staff_auth.set_password(node, Principal.operator(), username, new_password)
        finally:
            node.close()
    err.print(f"account {account.username!r} created with role {account.role!r}")
    if enrolment is not None:
        _print_enrolment(enrolment)


@users_app.command("password")
def set_password(
    username: str = typer.Argument(...),
    password_file: Path | None = typer.Option(None, "--password-file", help=_READ_FROM_FILE_HELP),
) -> None:
    """Set an account's password for the staff pages (ends its open sessions). An account without a second factor
    is enrolled, and its TOTP secret printed once."""
    with handle_errors():
        password = _read_password(password_file)
        node = Node.open(load_settings())
        try:
            enrolment = staff_auth.set_password(node, Principal.operator(), username, password)
        finally:
            node.close()
    err.print(f"password of {username!r} set")
    if enrolment is not None:
        _print_enrolment(enrolment)


@users_app.command("reset-2fa")
def reset_2fa(username: str = typer.Argument(...)) -> None:
    """Give an account a new TOTP secret, printed once; the old one stops working and open sessions end. For a lost
    phone, or an account that has a password but no second factor."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            enrolment = staff_auth.reset_totp(node, Principal.operator(), username)
        finally:
            node.close()
    _print_enrolment(enrolment)


@users_app.command("disable")
def disable_user(username: str = typer.Argument(...)) -> None:
    """Disable an account: it cannot sign in, its open sessions end and its API tokens are revoked."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            accounts.set_disabled(node, Principal.operator(), username, disabled=True)
        finally:
            node.close()
    err.print(f"account {username!r} disabled; its sessions ended and its API tokens were revoked")


@users_app.command("enable")
def enable_user(username: str = typer.Argument(...)) -> None:
    """Enable a disabled account again and lift any sign-in lockout (revoked tokens stay revoked)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            accounts.set_disabled(node, Principal.operator(), username, disabled=False)
        finally:
            node.close()
    err.print(f"account {username!r} enabled; create new API tokens with `tnrwatch tokens create` if it needs any")


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    password: str = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    return password


def _print_enrolment(enrolment: staff_auth.TotpEnrolment) -> None:
    err.print(
        f"second factor for {enrolment.username!r}: add it to an authenticator app now (the otpauth:// URI as a QR "
        "code, or the secret typed in). It is shown once: the next lines on stdout are the secret, then the URI.",
        highlight=False,
        markup=False,
    )
    print(enrolment.secret)  # noqa: T201  plain print: for scripts, without Rich wrapping or markup
    print(enrolment.uri)  # noqa: T201


@users_app.command("list")
def list_users() -> None:
    """List staff accounts."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            rows = accounts.list_accounts(node)
        finally:
            node.close()
    table = Table("username", "role", "name", "disabled", "created")
    for account in rows:
        table.add_row(
            account.username,
            account.role,
            account.display_name,
            "yes" if account.disabled else "",
            account.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@tokens_app.command("create")
def create_token(
    username: str = typer.Argument(..., help="The account the token acts for."),
    name: str = typer.Option("", "--name", help="What the token is for, e.g. 'laptop' or 'partner sync'."),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", min=1, help="Expire after this many days."),
    scope: str = typer.Option(
        "write", "--scope", help="read: GET requests only; write: whatever the account's role may do."
    ),
) -> None:
    """Create a personal API token, printed once, alone on the last line of stdout; only its hash is kept."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            created = accounts.create_token(node, Principal.operator(), username, name, expires_in_days, scope)
        finally:
            node.close()
    expiry = f", expires {created.expires_at:%Y-%m-%d}" if created.expires_at else ""
    err.print(
        f"token {created.prefix}... (scope {created.scope}) created for {created.username}{expiry}; "
        "it is shown once, store it now"
    )
    print(created.token)  # noqa: T201  plain print: the token alone on stdout, without Rich wrapping or markup
