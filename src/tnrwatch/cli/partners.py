"""`tnrwatch partners`: the partner nodes this node shares with over TAXII 2.1, their tokens, and pulling from them
(`pull-token`, `sync`).

A token is printed once, alone on stdout without Rich (so a script can capture it); what to do with it goes to
stderr. Only its SHA-256 is kept. Each command opens the node, acts as the operator (audited), and closes it.
"""

from __future__ import annotations

import sys

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from tnrwatch.cli.common import err, out, run_on_node
from tnrwatch.domain.sharing import TLP_ORDER
from tnrwatch.services import federation, partners
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(
    help="Partner nodes: who this node shares with over TAXII 2.1, and their tokens.", no_args_is_help=True
)


@app.command("add")
def add_partner(
    name: str = typer.Argument(..., help="The partner's name: lower-case letters, digits and '-' (e.g. fr-node)."),
    clearance: str = typer.Option(
        ..., "--clearance", help=f"The most sensitive TLP it may receive: {', '.join(TLP_ORDER)}."
    ),
    client: bool = typer.Option(
        False, "--client", help="A client of this node: it may receive AMBER this node received from others."
    ),
    url: str | None = typer.Option(None, "--url", help="The partner's TAXII 2.1 API root, to pull from."),
    public_key: str | None = typer.Option(
        None, "--public-key", help="The partner's Ed25519 sharing key (hex, or the base64 `stix public-key` prints)."
    ),
) -> None:
    """Register a partner node."""
    added = run_on_node(
        lambda node: partners.add_partner(
            node, Principal.operator(), name, clearance, client=client, taxii_url=url, public_key=public_key
        )
    )
    err.print(
        f"partner {added.name!r} added with clearance {added.clearance}"
        + (" (a client)" if added.client else "")
        + f"; give it a token with `tnrwatch partners token {added.name}`",
        highlight=False,
        markup=False,
    )


@app.command("list")
def list_partners() -> None:
    """List partner nodes."""
    rows = run_on_node(partners.list_partners)
    table = Table("name", "clearance", "client", "tokens", "disabled", "TAXII API root", "key", "added")
    for partner in rows:
        table.add_row(
            partner.name,
            partner.clearance,
            "yes" if partner.client else "",
            str(partner.active_tokens),
            "yes" if partner.disabled else "",
            partner.taxii_url or "",
            f"{partner.public_key[:16]}..." if partner.public_key else "",
            partner.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@app.command("token")
def create_token(name: str = typer.Argument(..., help="The partner the token is for.")) -> None:
    """Issue a token for a partner, printed once, alone on stdout; only its hash is kept."""
    created = run_on_node(lambda node: partners.create_token(node, Principal.operator(), name))
    err.print(
        f"token {created.prefix}... created for {created.partner}; it is shown once: hand it to the partner's "
        "operator over a safe channel. The partner sends it as `Authorization: Bearer TOKEN`, or as the password "
        "of HTTP Basic with its name as the user.",
        highlight=False,
        markup=False,
    )
    print(created.token)  # noqa: T201  plain print: the token alone on stdout, without Rich wrapping or markup


@app.command("revoke-token")
def revoke_token(
    name: str = typer.Argument(..., help="The partner whose token is revoked."),
    prefix: str | None = typer.Option(
        None, "--prefix", help="The token's first characters, as `partners token` showed them; without it, all."
    ),
) -> None:
    """Revoke one of a partner's tokens, or all of them: they stop working at once."""
    count = run_on_node(lambda node: partners.revoke_tokens(node, Principal.operator(), name, prefix))
    err.print(f"{count} token(s) of {name} revoked", highlight=False, markup=False)


@app.command("disable")
def disable_partner(name: str = typer.Argument(...)) -> None:
    """Disable a partner: its tokens stop working and nothing more is shared with it."""
    run_on_node(lambda node: partners.set_disabled(node, Principal.operator(), name, disabled=True))
    err.print(f"partner {name} disabled", highlight=False, markup=False)


@app.command("enable")
def enable_partner(name: str = typer.Argument(...)) -> None:
    """Enable a disabled partner again (its tokens in force work again)."""
    run_on_node(lambda node: partners.set_disabled(node, Principal.operator(), name, disabled=False))
    err.print(f"partner {name} enabled", highlight=False, markup=False)


@app.command("pull-token")
def set_pull_token(name: str = typer.Argument(..., help="The partner that issued the token to this node.")) -> None:
    """Keep the token a partner issued to this node, for pulling its collections. Read from stdin (or asked for,
    hidden, on a terminal) so that it never sits in the shell's history; stored in the key directory, mode 0600."""
    token = typer.prompt("token", hide_input=True) if sys.stdin.isatty() else sys.stdin.read()
    run_on_node(lambda node: federation.set_pull_token(node, name, token))
    err.print(f"pull token for {name} kept", highlight=False, markup=False)


@app.command("sync")
def sync(
    name: str | None = typer.Argument(None, help="One partner; without it, every partner with an address and a token."),
) -> None:
    """Pull partners' TAXII collections now, from where the last pull stopped, and import what is new."""

    def pull(node: Node) -> list[federation.SyncReport]:
        names = [name] if name else federation.pullable(node)
        if not names:
            err.print("no partner has both a TAXII address (--url) and a pull token", highlight=False, markup=False)
        reports = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} objects"),
            console=err,
            transient=True,
        ) as progress:
            for partner in names:
                task = progress.add_task(partner, total=None)

                def advance(_collection: str, count: int, task: TaskID = task) -> None:
                    progress.advance(task, count)

                reports.append(federation.sync_partner(node, partner, progress=advance))
        return reports

    reports = run_on_node(pull)
    table = Table("partner", "collection", "pages", "added", "updated", "unchanged", "failed")
    for report in reports:
        for collection in report.collections:
            table.add_row(
                report.partner,
                collection.title,
                str(collection.pages),
                str(collection.added),
                str(collection.updated),
                str(collection.unchanged),
                str(len(collection.failed)),
            )
    out.print(table)
    for report in reports:
        for collection in report.collections:
            for failure in collection.failed:
                err.print(f"{report.partner} / {collection.title}: {failure}", highlight=False, markup=False)
    if any(report.failed for report in reports):
        raise typer.Exit(1)
