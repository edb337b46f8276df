"""The identity vault: person identities encrypted at rest with a key from the node's key directory.

Each record is sealed with XChaCha20-Poly1305 (libsodium's IETF AEAD) under the newest vault key; the associated data
binds the ciphertext to the record it belongs to (e.g. the person's uuid), so ciphertext moved to another row by someone
with database access fails to open. Keys are 32 random bytes in files `vault-<id>.key` (mode 0600, folder 0700); old
keys stay so that older records still open. A key's id starts with its creation time (UTC). A database backup
without the key directory reveals no identity.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from nacl import bindings
from nacl.exceptions import CryptoError

from tnrwatch.errors import ConfigurationError

_KEY_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class VaultError(ConfigurationError):
    """A vault key is missing or damaged, or a ciphertext does not open under it."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: bytes  # nonce || AEAD ciphertext

    def to_bytes(self) -> bytes:
        """One column's worth: the key id's length (one byte), the key id, then the ciphertext."""
        key_id = self.key_id.encode()
        return bytes([len(key_id)]) + key_id + self.ciphertext

    @classmethod
    def from_bytes(cls, data: bytes) -> Sealed:
        """The inverse of `to_bytes`; `VaultError` when the bytes are too short to be one."""
        if not data or len(data) < 1 + data[0] + _NONCE_BYTES:
            raise VaultError("a sealed vault value is truncated")
        length = data[0]
        return cls(data[1 : 1 + length].decode(), data[1 + length :])


class Vault:
    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        self._keys = keys
        self.active_key_id = active

    @classmethod
    def open(cls, key_dir: Path, *, create: bool = True) -> Vault:
        """Load every vault key in `key_dir`; create the folder and a first key when there is none and `create`."""
        keys: dict[str, bytes] = {}
        if key_dir.is_dir():
            for path in key_dir.glob("vault-*.key"):
                data = path.read_bytes()
                if len(data) != _KEY_BYTES:
                    raise VaultError(f"vault key {path.name} is damaged: {len(data)} bytes, expected {_KEY_BYTES}")
                keys[path.stem.removeprefix("vault-")] = data
        if not keys:
            if not create:
                raise VaultError(f"no vault key in {key_dir}; run `tnrwatch db upgrade` to create one")
            create_key(key_dir)
            return cls.open(key_dir, create=False)
        return cls(keys, max(keys))  # key ids start with their creation time, so the largest is the newest

    def seal(self, plaintext: bytes, associated_data: bytes) -> Sealed:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        key = self._keys[self.active_key_id]
        box = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associated_data, nonce, key)
        return Sealed(self.active_key_id, nonce + box)

    def open_sealed(self, sealed: Sealed, associated_data: bytes) -> bytes:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise VaultError(f"vault key {sealed.key_id!r} is not in the key directory")
        nonce, box = sealed.ciphertext[:_NONCE_BYTES], sealed.ciphertext[_NONCE_BYTES:]
        try:
            return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(box, associated_data, nonce, key)
        except CryptoError:
            raise VaultError("a vault record does not open: wrong key, or ciphertext moved or altered") from None


def create_key(key_dir: Path) -> str:
    """Write a new vault key and return its id. The newest key seals new records."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_dir.chmod(0o700)
    key_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"
    path = key_dir / f"vault-{key_id}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(_KEY_BYTES))
    return key_id
