"""`tnrwatch users` and `tnrwatch tokens`: staff accounts and their personal API tokens."""

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


@users_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Lower-case letters, digits, '.', '_' or '-'."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    display_name: str = typer.Option("", "--name", help="A name colleagues recognise."),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", "-j", help="The focal point the account serves."),
) -> None:
    """Create a staff account."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            account = accounts.add_account(node, Principal.operator(), username, role, display_name, jurisdiction)
        finally:
            node.close()
    err.print(f"account {account.username!r} created with role {account.role!r}")


@users_app.command("password")
def set_password(
    username: str = typer.Argument(...),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="Read the password from the first line of this file instead of asking."
    ),
) -> None:
    """Set an account's password for the staff pages (ends its open sessions)."""
    with handle_errors():
        if password_file is not None:
            lines = password_file.read_text(encoding="utf-8").splitlines()
            password = lines[0] if lines else ""
        else:
            password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
        node = Node.open(load_settings())
        try:
            staff_auth.set_password(node, Principal.operator(), username, password)
        finally:
            node.close()
    err.print(f"password of {username!r} set")


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
) -> None:
    """Create a personal API token, printed once, alone on the last line of stdout; only its hash is kept."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            created = accounts.create_token(node, Principal.operator(), username, name, expires_in_days)
        finally:
            node.close()
    expiry = f", expires {created.expires_at:%Y-%m-%d}" if created.expires_at else ""
    err.print(f"token {created.prefix}... created for {created.username}{expiry}; it is shown once, store it now")
    print(created.token)  # noqa: T201  plain print: the token alone on stdout, without Rich wrapping or markup
