"""Crypto-shredding: the server's own lock on every sealed copy of a report key.

The reporter's browser seals the report key to each recipient key and to the reporter; whoever holds a database
backup and an officer's passphrase could open those copies for as long as the backup lives. So the server wraps every
copy once more, with a 32-byte key of the report's own (XChaCha20-Poly1305, bound to the report and the copy's
holder) kept in the key directory, outside the database and its backups (store/shred_keys.py). Deleting that one key
when the retention period ends makes every copy, in the database and in every backup of it, useless: the report, its
messages, its files and anything else encrypted with its key can no longer be opened by anyone.
"""

from __future__ import annotations

import secrets
import uuid

from nacl import bindings
from nacl.exceptions import CryptoError

from tnrwatch.crypto.envelope import EnvelopeError

KEY_BYTES = 32
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
OVERHEAD = NONCE_BYTES + bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 40 bytes per wrapped copy
_CONTEXT = b"tnrwatch/1/report-key-wrap/"


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _context(report_id: uuid.UUID, holder: str) -> bytes:
    return _CONTEXT + report_id.bytes + b"/" + holder.encode()


def wrap(key: bytes, sealed: bytes, report_id: uuid.UUID, holder: str) -> bytes:
    """`sealed` (one sealed copy of the report key, for `holder`: a recipient key id or "reporter") under the
    report's shredding key: nonce || ciphertext."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, _context(report_id, holder), nonce, key)


def unwrap(key: bytes, wrapped: bytes, report_id: uuid.UUID, holder: str) -> bytes:
    """The sealed copy inside `wrapped`; EnvelopeError when the key is not this report's or the bytes were altered or
    moved to another report or holder."""
    if len(wrapped) < OVERHEAD:
        raise EnvelopeError("the wrapped report key is too short")
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[NONCE_BYTES:], _context(report_id, holder), wrapped[:NONCE_BYTES], key
        )
    except CryptoError:
        raise EnvelopeError("the wrapped report key does not open with this report's shredding key") from None
