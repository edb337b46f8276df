"""`tnrwatch stix`: signed STIX bundles shared with partners.

A node signs what it exports (`tnrwatch export --format stix -o FILE --sign` writes `FILE.sig`) with its *sharing*
key, `sharing-signing.key` in the key directory: a key of its own, apart from the audit key, so that a partner who
pins it trusts it for bundles only. `stix public-key` prints the key to give partners (over another channel);
`stix verify` checks a partner's file against the key pinned for them, never against the key inside the signature.
`stix import` takes a registered partner's signed bundle (services/stix_import.py): checked against the key pinned
when the partner was registered, then imported object by object, with a summary table and every failure named.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from tnrwatch.cli.common import EXIT_FAILURE, err, handle_errors, load_settings, out, print_error, print_field_errors
from tnrwatch.crypto import audit_key, bundle_signature
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import stix_import
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings

app = typer.Typer(
    help="Signed STIX bundles: this node's sharing key, and checking a partner's file.", no_args_is_help=True
)

SIGNATURE_SUFFIX = ".sig"


def signature_path(file: Path) -> Path:
    return file.with_name(file.name + SIGNATURE_SUFFIX)


def write_signature(settings: Settings, file: Path) -> Path:
    """Sign `file` with this node's sharing key (made on first use) and write the signature next to it as JSON."""
    key = audit_key.open_signing_key(settings.resolved_key_dir, name=audit_key.SHARING_KEY_FILE)
    body = bundle_signature.sign_bundle(
        key, file.read_bytes(), node_name=settings.node_name, signed_at=dt.datetime.now(dt.UTC)
    )
    target = signature_path(file)
    # Written whole then renamed, like the export itself: a half-written signature would only confuse the partner.
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _trusted_key(public_key: str | None, public_key_file: Path | None) -> bytes:
    if (public_key is None) == (public_key_file is None):
        raise InvalidInputError(
            "which key to trust?",
            [FieldError(("--public-key",), "give either --public-key BASE64 or --public-key-file PATH")],
        )
    if public_key_file is not None:
        try:
            lines = public_key_file.read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                "cannot read the public key", [FieldError(("--public-key-file",), str(exc))]
            ) from None
        option, text = "--public-key-file", lines[0] if lines else ""
    else:
        option, text = "--public-key", public_key or ""
    raw = bundle_signature.decode_public_key(text)
    if raw is None:
        raise InvalidInputError(
            "the trusted key is not an Ed25519 public key",
            [FieldError((option,), f"expected {audit_key.PUBLIC_KEY_BYTES} bytes in base64")],
        )
    return raw


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}", [FieldError((option,), exc.strerror or str(exc))]) from None


@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The exported file (e.g. a .stix bundle)."),
    signature: Path | None = typer.Option(None, "--signature", help="The signature file. Default: FILE.sig."),
    public_key: str | None = typer.Option(None, "--public-key", help="The partner's sharing public key (base64)."),
    public_key_file: Path | None = typer.Option(
        None, "--public-key-file", help="A file whose first word is the partner's sharing public key (base64)."
    ),
) -> None:
    """Check that FILE is unchanged and was signed by the partner whose key you pinned; exit 1 naming what is wrong."""
    with handle_errors():
        trusted = _trusted_key(public_key, public_key_file)
        sig_path = signature or signature_path(file)
        payload = _read(file, "FILE")
        sig_text = _read(sig_path, "--signature")
    try:
        try:
            body: Any = json.loads(sig_text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise bundle_signature.SignatureError(
                f"{sig_path} is not a signature file", [FieldError(("--signature",), f"not JSON: {exc}")]
            ) from None
        fields = bundle_signature.verify_bundle(payload, body, trusted)
    except bundle_signature.SignatureError as exc:
        print_error(f"{file}: {exc.message}")
        print_field_errors(exc.errors)
        raise typer.Exit(EXIT_FAILURE) from None
    out.print(
        f"{file}: valid, signed by {fields['node']} (fingerprint {fields['fingerprint']}) at {fields['signed_at']}",
        highlight=False,
        markup=False,
    )


@app.command("public-key")
def public_key_command() -> None:
    """Print this node's sharing public key (base64, alone on stdout) and its fingerprint (stderr), for partners to
    pin; the key is made on first use."""
    with handle_errors():
        settings = load_settings()
        key = audit_key.open_signing_key(settings.resolved_key_dir, name=audit_key.SHARING_KEY_FILE)
    public = audit_key.public_key(key)
    err.print(
        f"sharing key of {settings.node_name}, fingerprint {audit_key.fingerprint(public)}",
        highlight=False,
        markup=False,
    )
    print(bundle_signature.encode_public_key(public))  # noqa: T201  the key alone on stdout, for scripts


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="The partner's bundle (a STIX 2.1 JSON file)."),
    partner: str = typer.Option(..., "--partner", help="The registered partner it comes from (tnrwatch partners add)."),
    signature: Path | None = typer.Option(None, "--signature", help="The signature file. Default: FILE.sig."),
    limit: int = typer.Option(50, "--show", min=0, help="How many failed objects to list at most."),
) -> None:
    """Import a partner's signed STIX bundle: objects already held in that version change nothing, newer versions
    update, and each object that cannot be taken is named with the reason. Exit 1 when the signature does not
    verify or any object failed, 2 on bad input."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            with err.status(f"importing {file.name} from {partner}"):
                report = stix_import.import_bundle_file(node, file, partner=partner, signature_path=signature)
        except bundle_signature.SignatureError as exc:
            print_error(f"{file}: {exc.message}")
            print_field_errors(exc.errors)
            raise typer.Exit(EXIT_FAILURE) from None
        finally:
            node.close()
    summary = Table(title=f"{file.name} from {partner}", title_justify="left")
    summary.add_column("type")
    for outcome in ("added", "updated", "unchanged", "failed"):
        summary.add_column(outcome, justify="right")
    by_type: dict[str, dict[str, int]] = {}
    for item in report.outcomes:
        counts = by_type.setdefault(
            item.type or "(unknown)", dict.fromkeys(("added", "updated", "unchanged", "failed"), 0)
        )
        counts[item.outcome] += 1
    for stix_type, counts in sorted(by_type.items()):
        summary.add_row(stix_type, *(str(value) for value in counts.values()))
    summary.add_row("all", *(str(value) for value in report.counts.values()), style="bold")
    out.print(summary)
    failures = report.failures
    for item in failures[:limit]:
        err.print(Text.assemble(("failed ", "bold red"), (item.id, "bold"), ": ", item.message), highlight=False)
    if len(failures) > limit:
        err.print(f"... and {len(failures) - limit} more failed objects")
    if failures:
        raise typer.Exit(EXIT_FAILURE)
