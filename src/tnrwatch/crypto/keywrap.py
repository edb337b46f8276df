"""Recipient private keys wrapped with a key derived from the officer's passphrase.

An officer's X25519 private key is created in their browser (static/tnr-crypto.js) or by `tnrwatch keys create` on
their own machine and leaves it only wrapped: Argon2id (libsodium `crypto_pwhash`, ALG_ARGON2ID13) turns the
passphrase and a random salt into a 32-byte key, which encrypts the private key with XChaCha20-Poly1305; the
associated data names the key's id and public key, so a wrapped key cannot be swapped onto another key record.
The server stores only this wrapped form. The format (JSON) is the same in both places; `docs/report-format.md`.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from nacl import bindings, pwhash
from nacl.exceptions import CryptoError

from tnrwatch.crypto.envelope import EnvelopeError, b64decode, b64encode

Strength = Literal["interactive", "moderate", "sensitive"]

# (opslimit, memlimit) of libsodium's named Argon2id levels.
STRENGTHS: dict[str, tuple[int, int]] = {
    "interactive": (pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (pwhash.argon2id.OPSLIMIT_MODERATE, pwhash.argon2id.MEMLIMIT_MODERATE),
    "sensitive": (pwhash.argon2id.OPSLIMIT_SENSITIVE, pwhash.argon2id.MEMLIMIT_SENSITIVE),
}
MIN_PASSPHRASE_CHARS = 12
_SALT_BYTES = pwhash.argon2id.SALTBYTES
_NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_KEY_BYTES = bindings.crypto_box_SECRETKEYBYTES
# A wrapped X25519 private key: 32 bytes and the 16-byte Poly1305 tag.
_CIPHERTEXT_BYTES = _KEY_BYTES + bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
# Refuse to derive with limits below INTERACTIVE or above SENSITIVE: a stored record must not make an officer's
# browser spend nothing (a downgrade) or all its memory (a denial of service).
_OPS_RANGE = (pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.OPSLIMIT_SENSITIVE)
_MEM_RANGE = (pwhash.argon2id.MEMLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_SENSITIVE)


class PassphraseError(EnvelopeError):
    """The passphrase does not unwrap the key (or the wrapped key was altered)."""


def wrap_context(key_id: uuid.UUID, public_key: bytes) -> bytes:
    return f"tnrwatch/1/recipient-key/{key_id}/{b64encode(public_key)}".encode("ascii")


@dataclass(frozen=True)
class WrappedKey:
    opslimit: int
    memlimit: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "kdf": "argon2id13",
            "opslimit": self.opslimit,
            "memlimit": self.memlimit,
            "salt": b64encode(self.salt),
            "nonce": b64encode(self.nonce),
            "ciphertext": b64encode(self.ciphertext),
        }

    @classmethod
    def from_json(cls, data: Any) -> WrappedKey:
        if not isinstance(data, dict) or data.get("v") != 1 or data.get("kdf") != "argon2id13":
            raise EnvelopeError("not a tnrwatch wrapped key (version 1, argon2id13)")
        try:
            opslimit, memlimit = int(data["opslimit"]), int(data["memlimit"])
            wrapped = cls(
                opslimit,
                memlimit,
                b64decode(data["salt"], field="salt"),
                b64decode(data["nonce"], field="nonce"),
                b64decode(data["ciphertext"], field="ciphertext"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EnvelopeError(f"wrapped key is incomplete: {exc}") from None
        if not (_OPS_RANGE[0] <= opslimit <= _OPS_RANGE[1] and _MEM_RANGE[0] <= memlimit <= _MEM_RANGE[1]):
            raise EnvelopeError("wrapped key asks for Argon2id limits outside libsodium's named levels")
        # The ciphertext length matters too: a shorter one made PyNaCl raise a bare ValueError instead of a
        # PassphraseError, and a private key of another length would reach crypto_scalarmult_base, which reads 32
        # bytes whatever it is given.
        if (
            len(wrapped.salt) != _SALT_BYTES
            or len(wrapped.nonce) != _NONCE_BYTES
            or len(wrapped.ciphertext) != _CIPHERTEXT_BYTES
        ):
            raise EnvelopeError("wrapped key has a salt, nonce or ciphertext of the wrong length")
        return wrapped


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    # NFC first: the same passphrase typed on two systems may arrive composed or decomposed (é vs e + ◌́).
    text = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    key: bytes = pwhash.argon2id.kdf(32, text, salt, opslimit=opslimit, memlimit=memlimit)
    return key


def wrap(private_key: bytes, passphrase: str, key_id: uuid.UUID, public_key: bytes, strength: Strength) -> WrappedKey:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise ValueError(f"a passphrase has at least {MIN_PASSPHRASE_CHARS} characters")
    if len(private_key) != _KEY_BYTES:
        raise ValueError(f"a private key has {_KEY_BYTES} bytes")
    opslimit, memlimit = STRENGTHS[strength]
    salt = bindings.randombytes(_SALT_BYTES)
    nonce = bindings.randombytes(_NONCE_BYTES)
    key = _derive(passphrase, salt, opslimit, memlimit)
    box = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(private_key, wrap_context(key_id, public_key), nonce, key)
    return WrappedKey(opslimit, memlimit, salt, nonce, box)


def unwrap(wrapped: WrappedKey, passphrase: str, key_id: uuid.UUID, public_key: bytes) -> bytes:
    key = _derive(passphrase, wrapped.salt, wrapped.opslimit, wrapped.memlimit)
    try:
        private: bytes = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped.ciphertext, wrap_context(key_id, public_key), wrapped.nonce, key
        )
    except (CryptoError, ValueError):  # ValueError: a ciphertext shorter than its tag
        raise PassphraseError("the passphrase does not unlock this key") from None
    if len(private) != _KEY_BYTES or bindings.crypto_scalarmult_base(private) != public_key:
        raise PassphraseError("the unwrapped private key does not match its public key")
    return private
