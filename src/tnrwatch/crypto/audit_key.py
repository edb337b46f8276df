"""The node's audit signing key (Ed25519), kept in the key directory and never in the database: whoever can write the
database alone must not be able to forge a seal over a rewritten audit log. One file, `audit-signing.key` (the
32-byte seed, mode 0600), made on first use. The same functions keep other Ed25519 keys of the node under another
`name` (e.g. `SHARING_KEY_FILE`, which signs exported bundles), so no key serves two purposes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.signing import SigningKey, VerifyKey

from tnrwatch.crypto import keyfiles

AUDIT_KEY_FILE = "audit-signing.key"
SHARING_KEY_FILE = "sharing-signing.key"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def open_signing_key(key_dir: Path, *, create: bool = True, name: str = AUDIT_KEY_FILE) -> SigningKey:
    """The node's signing key kept in the file `name`; made when missing unless `create` is False. Safe when two
    processes race to make it: the file is created with O_EXCL, and the loser reads the winner's key."""
    missing = f"no {name} in {key_dir}: nothing on this node has been " + (
        "sealed yet" if name == AUDIT_KEY_FILE else "signed with it yet"
    )
    seed = keyfiles.read_or_make(key_dir / name, 32, create=create, missing=missing)
    return SigningKey(seed)


def sign(key: SigningKey, payload: bytes) -> bytes:
    """The detached 64-byte signature of `payload`."""
    return bytes(key.sign(payload).signature)


def public_key(key: SigningKey) -> bytes:
    return bytes(key.verify_key)


def is_valid(public: bytes, payload: bytes, signature: bytes) -> bool:
    """Whether `signature` is `public`'s over `payload`; False for a malformed key or signature, never an error."""
    if len(public) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        VerifyKey(public).verify(payload, signature)
    except CryptoError:  # a bad signature, or a "key" that is no curve point: either way not valid
        return False
    return True


def fingerprint(public: bytes) -> str:
    """A short, readable name of a public key, to compare over another channel (SHA-256, first 16 bytes, hex)."""
    digest = hashlib.sha256(public).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))
