"""Detached signatures over exported files (STIX bundles), so that a partner can tell the file came unchanged from a
node whose key they pinned.

A signature is a small JSON object kept next to the file (`FILE.sig`):

    {"format": "tnrwatch-bundle-signature/1", "algorithm": "Ed25519", "sha256": <hex of the file>,
     "public_key": <base64>, "fingerprint": <audit_key.fingerprint of it>, "node": <the node's name>,
     "signed_at": <ISO 8601 UTC, e.g. 2025-01-02T03:04:05Z>, "signature": <base64, 64 bytes>}

What is signed is not the file itself but this message, the UTF-8 bytes of a JSON array with no whitespace:

    ["tnrwatch-bundle-signature/1","<sha256 hex>","<node>","<signed_at>"]

(`json.dumps([...], ensure_ascii=False, separators=(",", ":"))`, the strings exactly as they stand in the signature
file). The JSON array keeps the parts apart whatever a node's name holds, and the format string first keeps a
signature made for anything else from passing as one of these. `public_key` and `fingerprint` are there for people to
read; they are never trusted: `verify_bundle` checks against the key the caller pinned for the partner.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from typing import Any

from nacl.signing import SigningKey

from tnrwatch.crypto import audit_key
from tnrwatch.errors import FieldError, InvalidInputError

FORMAT = "tnrwatch-bundle-signature/1"
ALGORITHM = "Ed25519"
FIELDS = ("format", "algorithm", "sha256", "public_key", "fingerprint", "node", "signed_at", "signature")


class SignatureError(InvalidInputError):
    """A file and its signature do not check out; `errors` names each thing wrong (by field of the signature)."""


def signed_message(sha256: str, node: str, signed_at: str) -> bytes:
    """The exact bytes the Ed25519 signature covers (see the module docstring)."""
    return json.dumps([FORMAT, sha256, node, signed_at], ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _timestamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("signed_at must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sign_bundle(key: SigningKey, payload: bytes, *, node_name: str, signed_at: dt.datetime) -> dict[str, str]:
    """The detached signature of `payload` by `key`, as a JSON-able dict, naming `node_name` and `signed_at` (which
    must be timezone-aware; it is written in UTC to the second)."""
    digest = hashlib.sha256(payload).hexdigest()
    at = _timestamp(signed_at)
    public = audit_key.public_key(key)
    return {
        "format": FORMAT,
        "algorithm": ALGORITHM,
        "sha256": digest,
        "public_key": encode_public_key(public),
        "fingerprint": audit_key.fingerprint(public),
        "node": node_name,
        "signed_at": at,
        "signature": base64.b64encode(audit_key.sign(key, signed_message(digest, node_name, at))).decode("ascii"),
    }


def encode_public_key(public: bytes) -> str:
    """A public key as partners pin it: base64."""
    return base64.b64encode(public).decode("ascii")


def decode_public_key(text: str) -> bytes | None:
    """The public key a partner gave as base64; None when it is not 32 bytes in base64."""
    raw = _b64(text.strip())
    return raw if raw is not None and len(raw) == audit_key.PUBLIC_KEY_BYTES else None


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _well_formed(signature: Any) -> tuple[dict[str, str], bytes, bytes]:
    """The signature's fields, its public key and its signature bytes; SignatureError naming every bad field."""
    if not isinstance(signature, dict):
        raise SignatureError("the signature is not a JSON object", [FieldError((), "expected a JSON object")])
    errors: list[FieldError] = []
    for name in FIELDS:
        if not isinstance(signature.get(name), str):
            errors.append(FieldError((name,), "missing" if name not in signature else "must be a string"))
    if errors:
        raise SignatureError("the signature file is malformed", errors)
    fields: dict[str, str] = {name: signature[name] for name in FIELDS}
    if fields["format"] != FORMAT:
        errors.append(FieldError(("format",), f"{fields['format']!r} is not {FORMAT!r}"))
    if fields["algorithm"] != ALGORITHM:
        errors.append(FieldError(("algorithm",), f"{fields['algorithm']!r} is not {ALGORITHM!r}"))
    digest = fields["sha256"]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        errors.append(FieldError(("sha256",), "must be 64 lower-case hex digits"))
    public = _b64(fields["public_key"])
    if public is None or len(public) != audit_key.PUBLIC_KEY_BYTES:
        errors.append(FieldError(("public_key",), f"must be {audit_key.PUBLIC_KEY_BYTES} bytes in base64"))
    elif fields["fingerprint"] != audit_key.fingerprint(public):
        errors.append(FieldError(("fingerprint",), "does not match public_key"))
    raw = _b64(fields["signature"])
    if raw is None or len(raw) != audit_key.SIGNATURE_BYTES:
        errors.append(FieldError(("signature",), f"must be {audit_key.SIGNATURE_BYTES} bytes in base64"))
    try:
        parsed = dt.datetime.fromisoformat(fields["signed_at"])
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        errors.append(FieldError(("signed_at",), "must be an ISO 8601 time with its offset, e.g. 2025-01-02T03:04:05Z"))
    if errors or public is None or raw is None:
        raise SignatureError("the signature file is malformed", errors)
    return fields, public, raw


def verify_bundle(payload: bytes, signature: Any, trusted_public_key: bytes) -> dict[str, str]:
    """Check that `signature` (the parsed JSON of a signature file) is `trusted_public_key`'s over `payload`, and
    return its fields. Raise SignatureError naming what is wrong: a malformed field, a file changed since it was
    signed (sha256), a signature by another key than the trusted one (public_key, both fingerprints shown), or a
    signature that does not verify (signature). The key inside the signature is never taken as trust."""
    fields, public, raw = _well_formed(signature)
    if len(trusted_public_key) != audit_key.PUBLIC_KEY_BYTES:
        raise SignatureError(
            "the trusted key is not an Ed25519 public key",
            [FieldError(("trusted_public_key",), f"must be {audit_key.PUBLIC_KEY_BYTES} bytes")],
        )
    if hashlib.sha256(payload).hexdigest() != fields["sha256"]:
        raise SignatureError(
            "the file does not match its signature",
            [FieldError(("sha256",), "digest mismatch: the file was changed after it was signed, or is another file")],
        )
    if public != trusted_public_key:
        raise SignatureError(
            "the file was not signed by the trusted key",
            [
                FieldError(
                    ("public_key",),
                    f"signed by key {audit_key.fingerprint(public)}, "
                    f"but the trusted key is {audit_key.fingerprint(trusted_public_key)}",
                )
            ],
        )
    message = signed_message(fields["sha256"], fields["node"], fields["signed_at"])
    if not audit_key.is_valid(trusted_public_key, message, raw):
        raise SignatureError(
            "the signature does not verify",
            [FieldError(("signature",), "bad signature: the signature, node or signed_at was altered")],
        )
    return fields
