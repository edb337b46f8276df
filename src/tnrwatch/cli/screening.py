"""`tnrwatch screening-key` (the node's keys for the keyed blind index, and keys partners gave this node) and
`tnrwatch screening query` (ask a partner node whether it protects a person, sending HMACs only), and `tnrwatch
screening digests` (the body of such a query, for a partner that sends it with its own HTTP client).

An exported key is printed alone on stdout without Rich (so a script can capture it); what to do with it goes to
stderr. Names given to `screening query` never leave this node and are never printed back or logged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from tnrwatch.cli.common import err, handle_errors, out, run_on_node
from tnrwatch.crypto import blind_index as keys
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import blind_index
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

key_app = typer.Typer(
    help="Screening keys of the keyed blind index (partners' is-this-person-protected queries).", no_args_is_help=True
)
query_app = typer.Typer(help="Ask a partner node whether it protects a person (HMACs only).", no_args_is_help=True)


@key_app.command("new")
def new_key() -> None:
    """Make a new current key (rotation). Export it to every partner, then retire the old one."""
    held = run_on_node(lambda node: blind_index.new_key(node, Principal.operator()))
    err.print(f"new screening key {held.key_id}: export it to each partner (`screening-key export PARTNER`)")


@key_app.command("export")
def export_key(partner: str = typer.Argument(..., help="The registered partner the key is for.")) -> None:
    """Print the current key for an authorised partner, alone on stdout (made on first use; the export is audited)."""
    line = run_on_node(lambda node: blind_index.export_key(node, Principal.operator(), partner))
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    err.print(
        "Give this line to the partner over a secure channel; they run `tnrwatch screening-key import`. "
        "Anyone holding it can test names against this node's queries: keep it off e-mail and tickets.",
        highlight=False,
        markup=False,
    )


@key_app.command("import")
def import_key(
    partner: str = typer.Argument(..., help="The registered partner node that exported the key."),
    key: str | None = typer.Option(
        None, "--key", help="The exported line; default: read from stdin (keeps it out of shell history)."
    ),
) -> None:
    """Keep the screening key a partner node exported for this node."""
    text = key if key is not None else sys.stdin.readline()
    key_id = run_on_node(lambda node: blind_index.import_key(node, Principal.operator(), partner, text))
    err.print(f"screening key {key_id} from {partner} kept", highlight=False, markup=False)


@key_app.command("list")
def list_keys() -> None:
    """The node's screening keys (ids only), oldest first; the last is the current one."""
    held = run_on_node(lambda node: keys.node_keys(node.settings.resolved_key_dir))
    table = Table("key id", "current")
    for position, item in enumerate(held):
        table.add_row(item.key_id, "yes" if position == len(held) - 1 else "")
    out.print(table)


@key_app.command("retire")
def retire_key(key_id: str = typer.Argument(..., help="An older key's id (`screening-key list`).")) -> None:
    """Delete an older key once every partner uses the current one: queries made with it are refused."""
    run_on_node(lambda node: blind_index.retire_key(node, Principal.operator(), key_id))
    err.print(f"screening key {key_id} retired", highlight=False, markup=False)


def _birth_year(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    head = text.strip().replace("/", "-").split("-", 1)[0]
    if len(head) != 4 or not head.isdigit():
        raise InvalidInputError(
            "the screening query is invalid", [FieldError(("birth",), "expected YYYY, YYYY-MM or YYYY-MM-DD")]
        )
    return int(head)


@query_app.command("query")
def query(
    partner: str = typer.Option(..., "--partner", help="The partner node to ask (registered, its key imported)."),
    name: list[str] = typer.Option(..., "--name", help="The subject's name (forename and name); repeat for others."),
    birth: str | None = typer.Option(None, "--birth", help="Date of birth: YYYY, YYYY-MM or YYYY-MM-DD (year used)."),
    nationality: list[str] = typer.Option([], "--nationality", help="ISO 3166-1 alpha-2; repeat for several."),
    url: str | None = typer.Option(None, "--url", help="The partner's screening endpoint; default: from its URL."),
) -> None:
    """Ask whether the partner protects this person: "possible match, contact focal point X" or "no match"."""

    def ask(node: Node) -> blind_index.ScreeningAnswer:
        return blind_index.ask_node(node, partner, name, _birth_year(birth), nationality, url=url)

    answer = run_on_node(ask)
    out.print(answer.sentence(), highlight=False, markup=False)


@query_app.command("digests")
def digests(
    key_file: Path = typer.Option(
        ..., "--key-file", help="A file holding the screening key the node exported to you (its one line)."
    ),
    name: list[str] = typer.Option(..., "--name", help="The subject's name (forename and name); repeat for others."),
    birth: str | None = typer.Option(None, "--birth", help="Date of birth: YYYY, YYYY-MM or YYYY-MM-DD (year used)."),
    nationality: list[str] = typer.Option([], "--nationality", help="ISO 3166-1 alpha-2; repeat for several."),
) -> None:
    """Print the JSON body of a screening query, alone on stdout, for a partner that POSTs it to the node's
    /partner/v1/screening itself (e.g. `| curl --data-binary @- ...`): the key id and the HMACs of the subject's
    blocking keys, never the names. Needs no database and no registered partner: only the key."""
    with handle_errors():
        key = keys.parse_export(_key_line(key_file))
        body = {
            "key_id": key.key_id,
            "digests": blind_index.subject_digests(key, name, _birth_year(birth), nationality),
        }
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


def _key_line(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInputError(f"cannot read {path}", [FieldError(("key-file",), message)]) from None
