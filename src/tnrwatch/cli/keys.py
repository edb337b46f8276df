"""`tnrwatch keys`, `tnrwatch reports` and `tnrwatch jurisdictions`: recipient keys, reading reports offline, and
who receives reports.

Passphrases are asked for at the terminal without echo, or read from a file (`--passphrase-file`, first line) for
scripts. Private keys never touch the disk unwrapped: key files hold the wrapped form only.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import typer
from rich.table import Column, Table

from tnrwatch.cli.common import err, handle_errors, load_settings, out
from tnrwatch.crypto import envelope, keywrap
from tnrwatch.errors import InvalidInputError, NotFoundError
from tnrwatch.interop.strip import strip_metadata
from tnrwatch.services import jurisdictions as jurisdiction_service
from tnrwatch.services import recipient_keys, report_reader, retention
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, list_all_reports, operator_thread

keys_app = typer.Typer(help="Officers' recipient keys (X25519, wrapped with a passphrase).", no_args_is_help=True)
reports_app = typer.Typer(help="Encrypted reports: list their metadata, decrypt with a key file.", no_args_is_help=True)
jurisdictions_app = typer.Typer(help="Who receives reports.", no_args_is_help=True)

PASSPHRASE_FILE = typer.Option(
    None, "--passphrase-file", help="Read the passphrase from the first line of this file instead of asking."
)


def _passphrase(path: Path | None, prompt: str, *, confirm: bool = False) -> str:
    if path is not None:
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    answer: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return answer


def _write_key_file(path: Path, key: recipient_keys.KeyOut) -> None:
    body = {
        "tnrwatch_key": 1,
        "id": str(key.id),
        "jurisdiction": key.jurisdiction,
        "public_key": envelope.b64encode(key.public_key),
        "wrapped_private_key": key.wrapped_private_key,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=1)


def read_key_file(path: Path) -> tuple[uuid.UUID, bytes, keywrap.WrappedKey]:
    try:
        body: Any = json.loads(path.read_text(encoding="utf-8"))
        return (
            uuid.UUID(body["id"]),
            envelope.b64decode(body["public_key"], field="public_key"),
            keywrap.WrappedKey.from_json(body["wrapped_private_key"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{path} is not a tnrwatch key file: {exc}") from None


def _unlock(path: Path, passphrase_file: Path | None) -> tuple[uuid.UUID, bytes]:
    key_id, public_key, wrapped = read_key_file(path)
    passphrase = _passphrase(passphrase_file, f"passphrase of key {key_id}")
    try:
        return key_id, keywrap.unwrap(wrapped, passphrase, key_id, public_key)
    except keywrap.PassphraseError as exc:
        raise InvalidInputError(str(exc)) from None


@keys_app.command("create")
def create_key(
    jurisdiction: str = typer.Option(..., "--jurisdiction", "-j", help="The jurisdiction whose reports it opens."),
    username: str | None = typer.Option(None, "--user", help="The officer who holds it."),
    label: str = typer.Option("", "--label", help="A name for the key, e.g. 'office laptop'."),
    key_file: Path | None = typer.Option(None, "--key-file", help="Also write the wrapped key here (for decrypting)."),
    passphrase_file: Path | None = PASSPHRASE_FILE,
) -> None:
    """Make a key pair here, wrap the private key with a passphrase, and register it; new reports are sealed to it."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            passphrase = _passphrase(passphrase_file, "passphrase for the new key", confirm=True)
            key = recipient_keys.create_key(
                node,
                Principal.operator(),
                jurisdiction=jurisdiction,
                username=username,
                passphrase=passphrase,
                label=label,
            )
        finally:
            node.close()
        if key_file is not None:
            _write_key_file(key_file, key)
    err.print(f"key {key.id} ({key.fingerprint}) created for {key.jurisdiction}")
    print(key.id)  # noqa: T201  the id alone on stdout, for scripts


@keys_app.command("export")
def export_key(
    key_id: uuid.UUID = typer.Argument(..., help="The key to write out."),
    key_file: Path = typer.Option(..., "--key-file", help="Where to write the wrapped key (mode 0600)."),
) -> None:
    """Write a registered key, still wrapped, to a file for `tnrwatch reports decrypt` on another machine."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            key = recipient_keys.get_key(node, key_id)
        finally:
            node.close()
        _write_key_file(key_file, key)
    err.print(f"wrote key {key_id} to {key_file}")


@keys_app.command("list")
def list_keys(jurisdiction: str | None = typer.Option(None, "--jurisdiction", "-j")) -> None:
    """List recipient keys: id, fingerprint, jurisdiction, officer, status, reports held."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            keys = recipient_keys.list_keys(node, jurisdiction)
        finally:
            node.close()
    table = Table("fingerprint", "jurisdiction", "officer", "label", "status", "reports", "created")
    table.columns.insert(0, Column("id", no_wrap=True, min_width=36))  # ids are copied into other commands
    for key in keys:
        table.add_row(
            str(key.id),
            key.fingerprint,
            key.jurisdiction,
            key.username or "",
            key.label,
            key.status,
            str(key.reports),
            key.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@keys_app.command("rotate")
def rotate_key(
    key_file: Path = typer.Argument(..., help="The current key's file (wrapped)."),
    new_key_file: Path | None = typer.Option(None, "--new-key-file", help="Write the new wrapped key here."),
    passphrase_file: Path | None = PASSPHRASE_FILE,
    new_passphrase_file: Path | None = typer.Option(None, "--new-passphrase-file"),
) -> None:
    """Replace a key: make a new pair for the same officer, re-seal every report key to it, retire the old one."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            old_id, private = _unlock(key_file, passphrase_file)
            old = recipient_keys.get_key(node, old_id)
            passphrase = _passphrase(new_passphrase_file, "passphrase for the new key", confirm=True)
            new = recipient_keys.create_key(
                node,
                Principal.operator(),
                jurisdiction=old.jurisdiction,
                username=old.username,
                passphrase=passphrase,
                label=old.label,
            )
            count = recipient_keys.reseal(
                node, Principal.operator(), from_key=old_id, private_key=private, to_key=new.id, retire_source=True
            )
        finally:
            node.close()
        if new_key_file is not None:
            _write_key_file(new_key_file, new)
    err.print(f"key {old_id} retired; {count} report(s) re-sealed to the new key {new.id}")
    print(new.id)  # noqa: T201


@keys_app.command("grant")
def grant(
    key_file: Path = typer.Argument(..., help="A key that holds the reports (wrapped)."),
    to_key: uuid.UUID = typer.Option(..., "--to", help="The colleague's key that should hold them too."),
    passphrase_file: Path | None = PASSPHRASE_FILE,
) -> None:
    """Seal every report the first key holds to a colleague's key of the same jurisdiction as well."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            from_id, private = _unlock(key_file, passphrase_file)
            count = recipient_keys.reseal(
                node, Principal.operator(), from_key=from_id, private_key=private, to_key=to_key, retire_source=False
            )
        finally:
            node.close()
    err.print(f"{count} report(s) sealed to key {to_key}")


@keys_app.command("revoke")
def revoke_key(
    key_id: uuid.UUID = typer.Argument(...),
    force: bool = typer.Option(False, "--force", help="Revoke even if some report can then be read by no one."),
) -> None:
    """Revoke a key: its sealed copies are deleted and new reports are no longer sealed to it."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            count = recipient_keys.revoke(node, Principal.operator(), key_id, force=force)
        finally:
            node.close()
    err.print(f"key {key_id} revoked; it no longer opens {count} report(s)")


@reports_app.command("list")
def list_reports(jurisdiction: str | None = typer.Option(None, "--jurisdiction", "-j")) -> None:
    """Report metadata (the server knows nothing more): received hour, deadline, status, size."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            rows = list_all_reports(Intake(node), jurisdiction)
        finally:
            node.close()
    table = Table("jurisdiction", "received", "acknowledge by", "status", "urgent", "mode", "bytes", "files")
    table.columns.insert(0, Column("id", no_wrap=True, min_width=36))
    for r in rows:
        table.add_row(
            str(r.id),
            r.jurisdiction,
            r.received_at.strftime("%Y-%m-%d %H:00"),
            r.acknowledge_by.strftime("%Y-%m-%d"),
            r.status,
            "URGENT" if r.urgent else "",
            r.mode,
            f"{r.size:,}",
            str(r.attachments),
        )
    out.print(table)


@reports_app.command("decrypt")
def decrypt(
    report_id: uuid.UUID = typer.Argument(...),
    key_file: Path = typer.Option(..., "--key-file", help="The officer's wrapped key."),
    output_dir: Path | None = typer.Option(None, "--output-dir", help="Decrypt the files into this folder."),
    strip: bool = typer.Option(
        False, "--strip-metadata", help="Also write a copy of each image or PDF without its metadata."
    ),
    passphrase_file: Path | None = PASSPHRASE_FILE,
) -> None:
    """Decrypt a report and its messages (JSON on stdout) and, with --output-dir, its files (SHA-256 checked)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            key_id, private = _unlock(key_file, passphrase_file)
            intake = Intake(node)
            thread = report_reader.decrypt_thread(operator_thread(intake, report_id, key_id), private)
            files = []
            if output_dir is not None:
                output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                for message_id, entry in thread.files():
                    safe = Path(str(entry.get("name") or "file")).name or "file"
                    target = output_dir / f"{str(entry['id'])[:8]}-{safe}"
                    saved = report_reader.save_file(intake, thread, entry, target)
                    row: dict[str, Any] = {
                        "file": str(saved.path),
                        "message": str(message_id) if message_id else None,
                        "size": saved.size,
                        "sha256": saved.sha256,
                        "verified": saved.verified,
                    }
                    if strip:
                        stripped = target.with_name(f"{target.stem}.stripped{target.suffix}")
                        try:
                            result = strip_metadata(target, stripped)
                            row["stripped_copy"] = str(stripped)
                            row["removed"] = list(result.removed)
                        except InvalidInputError as exc:
                            row["stripped_copy"] = None
                            row["strip_error"] = exc.message
                    files.append(row)
        except (ValueError, NotFoundError) as exc:
            raise InvalidInputError(str(exc)) from None
        finally:
            node.close()
    body = {
        "report": str(thread.report_id),
        "answers": thread.answers,
        "messages": [
            {"id": str(m.id), "author": m.author, "sent_at": m.sent_at, "document": m.document} for m in thread.messages
        ],
        "files": files,
    }
    out.print_json(json.dumps(body, ensure_ascii=False))


@jurisdictions_app.command("list")
def list_jurisdictions() -> None:
    """Jurisdictions and whether each can receive reports (has an active recipient key)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            rows = jurisdiction_service.list_jurisdictions(node)
        finally:
            node.close()
    table = Table("code", "name", "kind", "country", "active keys", "receives reports", "retention")
    for j in rows:
        kept = "kept" if j.retention_days is None else f"{j.retention_days} days after closing"
        table.add_row(
            j.code, j.name, j.kind, j.country or "", str(j.active_keys), "yes" if j.can_receive else "no", kept
        )
    out.print(table)


@jurisdictions_app.command("set-retention")
def set_retention(
    code: str = typer.Argument(..., help="e.g. DE"),
    days: int | None = typer.Option(None, "--days", help="Shred a closed case's raw report this many days after."),
    keep: bool = typer.Option(False, "--keep", help="Keep raw reports (no retention period)."),
) -> None:
    """Set how long a jurisdiction keeps the raw report of a closed case before it is shredded."""
    if (days is None) == (not keep):
        err.print("give either --days N or --keep")
        raise typer.Exit(2)
    with handle_errors():
        node = Node.open(load_settings())
        try:
            retention.set_retention(node, Principal.operator(), code, None if keep else days)
        finally:
            node.close()
    err.print(f"{code}: raw reports " + ("kept" if keep else f"shredded {days} days after their case closes"))


@jurisdictions_app.command("add")
def add_jurisdiction(
    code: str = typer.Argument(..., help="e.g. NGO-SAFEHAVEN"),
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option("ngo", "--kind", help=f"One of: {', '.join(jurisdiction_service.KINDS)}."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166 alpha-2 of the country it serves."),
) -> None:
    """Add a jurisdiction (a partner NGO, another body)."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            jurisdiction_service.add_jurisdiction(node, Principal.operator(), code, name, kind, country)
        finally:
            node.close()
    err.print(f"jurisdiction {code} added; it receives reports once it has a key (`tnrwatch keys create -j {code}`)")
