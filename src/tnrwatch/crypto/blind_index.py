"""Screening keys and the keyed hashes of the blind index: HMAC-SHA256 of each blocking key of a person
(`domain.names.blocking_keys`) under a 32-byte key that the node shares only with authorised screening partners.

The node's keys live in `screening/` under the key directory, one file per key (32 random bytes, mode 0600), named
`<sequence>-<key id>.key`: the highest sequence number is the current key, which `export` hands to partners; older
ones keep answering queries made with them until the operator retires them (rotation: make a new key, give it to
every partner, retire the old one once they all use it). A partner keeps the key a node gave it in
`screening-partners/<partner name>.key`. A key id is derived from the key itself (so an imported key is checked
against the id it was exported with) and says nothing about the key.

Never log a key, a blocking key or a hash of one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError

KEY_BYTES = 32
DIGEST_BYTES = 32
NODE_KEY_DIR = "screening"
PARTNER_KEY_DIR = "screening-partners"
EXPORT_PREFIX = "tnrwatch-screening-key-v1"
# Domain separation: these HMACs can never equal one made with the same key for another purpose.
_CONTEXT = b"tnrwatch blind index v1\x00"
_KEY_ID_CONTEXT = b"tnrwatch screening key id v1"
_NODE_FILE = re.compile(r"^(\d{4,})-([0-9a-f]{16})\.key$")
_PARTNER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def key_id_of(secret: bytes) -> str:
    """16 hex characters that name a key: an HMAC of a constant under it, so they reveal nothing of it."""
    return hmac.new(secret, _KEY_ID_CONTEXT, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class ScreeningKey:
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a screening key is {KEY_BYTES} bytes")

    @property
    def key_id(self) -> str:
        return key_id_of(self.secret)

    def digest(self, blocking_key: str) -> bytes:
        """The keyed hash of one blocking key (its UTF-8 bytes)."""
        return hmac.new(self.secret, _CONTEXT + blocking_key.encode(), hashlib.sha256).digest()

    def digests(self, blocking_keys: Iterable[str]) -> dict[bytes, str]:
        """Hash -> blocking key, for every key given."""
        return {self.digest(key): key for key in blocking_keys}

    def export(self) -> str:
        """The key as one line for an authorised partner: `tnrwatch-screening-key-v1:<key id>:<64 hex>`."""
        return f"{EXPORT_PREFIX}:{self.key_id}:{self.secret.hex()}"


def parse_export(text: str) -> ScreeningKey:
    """A key from the line `export` printed. InvalidInputError (field `key`) when it is not one, or when its id does
    not match the key (a character lost when it was copied)."""
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] != EXPORT_PREFIX or not re.fullmatch(r"[0-9a-f]{64}", parts[2]):
        raise InvalidInputError(
            "this is not a screening key",
            [FieldError(("key",), f"expected {EXPORT_PREFIX}:<key id>:<64 hex characters>, as the node exported it")],
        )
    key = ScreeningKey(bytes.fromhex(parts[2]))
    if not hmac.compare_digest(key.key_id, parts[1]):
        raise InvalidInputError(
            "the screening key is damaged",
            [FieldError(("key",), "its key id does not match the key: copy the whole line again")],
        )
    return key


# -- the node's keys -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldKey:
    sequence: int
    key: ScreeningKey

    @property
    def key_id(self) -> str:
        return self.key.key_id


def node_keys(key_dir: Path) -> list[HeldKey]:
    """The node's screening keys, oldest first (the last is the current one). Empty when none was made."""
    folder = key_dir / NODE_KEY_DIR
    if not folder.is_dir():
        return []
    held = []
    for path in folder.iterdir():
        found = _NODE_FILE.match(path.name)
        if found is None:
            continue
        key = ScreeningKey(_read_secret(path))
        if key.key_id != found.group(2):
            raise ConflictError(f"{path} is damaged: its name does not match the key it holds")
        held.append(HeldKey(int(found.group(1)), key))
    return sorted(held, key=lambda item: item.sequence)


def current_key(key_dir: Path) -> HeldKey | None:
    keys = node_keys(key_dir)
    return keys[-1] if keys else None


def new_node_key(key_dir: Path) -> HeldKey:
    """Make a new current key (the older ones stay until retired)."""
    folder = key_dir / NODE_KEY_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    existing = node_keys(key_dir)
    sequence = existing[-1].sequence + 1 if existing else 1
    key = ScreeningKey(secrets.token_bytes(KEY_BYTES))
    _write_secret(folder / f"{sequence:04d}-{key.key_id}.key", key.secret, exclusive=True)
    return HeldKey(sequence, key)


def retire_node_key(key_dir: Path, key_id: str) -> None:
    """Delete an older key: queries made with it get "unknown key" from now on. The current key cannot be retired
    (make a new one first)."""
    keys = node_keys(key_dir)
    found = [held for held in keys if held.key_id == key_id]
    if not found:
        raise NotFoundError(f"this node holds no screening key {key_id!r}")
    if found[0] is keys[-1]:
        raise ConflictError("that is the current screening key: make a new one first, then retire this one")
    (key_dir / NODE_KEY_DIR / f"{found[0].sequence:04d}-{key_id}.key").unlink()


# -- keys partners gave this node ------------------------------------------------------------------------------------


def partner_key_path(key_dir: Path, partner: str) -> Path:
    if not _PARTNER_NAME.match(partner):
        raise InvalidInputError("bad partner name", [FieldError(("partner",), "not a partner name")])
    return key_dir / PARTNER_KEY_DIR / f"{partner}.key"


def save_partner_key(key_dir: Path, partner: str, key: ScreeningKey) -> None:
    """Keep the screening key `partner` gave this node (replacing the one it gave before)."""
    path = partner_key_path(key_dir, partner)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_secret(path, key.secret, exclusive=False)


def partner_key(key_dir: Path, partner: str) -> ScreeningKey:
    path = partner_key_path(key_dir, partner)
    if not path.exists():
        raise NotFoundError(
            f"no screening key from {partner!r}: import the one it exported (`tnrwatch screening-key import`)"
        )
    return ScreeningKey(_read_secret(path))


def _read_secret(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) != KEY_BYTES:
        raise ConflictError(f"{path} is damaged: {len(data)} bytes, expected {KEY_BYTES}")
    return data


def _write_secret(path: Path, secret: bytes, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
