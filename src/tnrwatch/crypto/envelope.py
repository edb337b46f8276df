"""The report envelope: how a report, its messages and its files are encrypted, in the reporter's browser and here.

The browser (static/tnr-crypto.js, libsodium.js) and this module (PyNaCl, the same libsodium) write and read the very
same bytes; `docs/report-format.md` is the specification both follow, and tests encrypt on one side and decrypt on the
other.

- Every report has a fresh 32-byte **report key**. Answers and messages are encrypted with it (XChaCha20-Poly1305,
  libsodium's IETF AEAD; stored as nonce || ciphertext), after ISO/IEC 7816-4 padding to a multiple of 1 KiB so that
  sizes say little about content.
- The report key is **sealed** (libsodium sealed box: X25519 + XSalsa20-Poly1305, anonymous sender) to every active
  recipient key of the jurisdiction and to the reporter's own key derived from the receipt. The sealed plaintext is
  the key followed by its context string, so a sealed key copied to another report or recipient does not verify.
- Each ciphertext carries its **context** as associated data: `tnrwatch/1/<purpose>/<report id>/<item id>`. Someone
  with database access cannot move ciphertext between reports, fields or messages: it no longer opens.
- Attachments are encrypted as a stream (`crypto_secretstream_xchacha20poly1305`) in 1 MiB chunks with a fresh file
  key, each chunk bound to the attachment's context; the file key, name, type, size and the SHA-256 of the plaintext
  travel inside the encrypted answers or message, never in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
AEAD_ABYTES = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
SEAL_BYTES = bindings.crypto_box_SEALBYTES  # 48
PAD_BLOCK = 1024
CHUNK_BYTES = 1024 * 1024
STREAM_HEADER_BYTES = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
STREAM_ABYTES = bindings.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
_TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL

REPORTER = "reporter"  # the recipient name of the reporter's own copy of a report key


class EnvelopeError(ValueError):
    """A ciphertext does not open: wrong key, altered bytes, or bytes moved to another context."""


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, field: str = "value") -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise EnvelopeError(f"{field} is not base64") from exc


def context(purpose: str, report_id: uuid.UUID, item: str = "") -> bytes:
    """The associated data binding a ciphertext to where it belongs."""
    parts = ["tnrwatch", str(FORMAT_VERSION), purpose, str(report_id)]
    if item:
        parts.append(item)
    return "/".join(parts).encode("ascii")


def answers_context(report_id: uuid.UUID) -> bytes:
    return context("answers", report_id)


def message_context(report_id: uuid.UUID, message_id: uuid.UUID) -> bytes:
    return context("message", report_id, str(message_id))


def attachment_context(report_id: uuid.UUID, attachment_id: uuid.UUID) -> bytes:
    return context("attachment", report_id, str(attachment_id))


def report_key_context(report_id: uuid.UUID, recipient: str) -> bytes:
    """`recipient` is a recipient key's id, or REPORTER for the reporter's copy."""
    return context("report-key", report_id, recipient)


def new_key() -> bytes:
    return bindings.randombytes(KEY_BYTES)


# -- answers and messages --------------------------------------------------------------------------------------------


def encrypt_document(document: Any, key: bytes, ad: bytes) -> bytes:
    """JSON-encode, pad to PAD_BLOCK and encrypt. Returns nonce || ciphertext.

    Raises ValueError for NaN or infinite floats: Python would write them as `NaN`, which is not JSON and which the
    browser's JSON.parse refuses, so the reporter could never read the document.
    """
    plaintext = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    padded = bindings.sodium_pad(plaintext, PAD_BLOCK)
    nonce = bindings.randombytes(NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, nonce, key)


def decrypt_document(ciphertext: bytes, key: bytes, ad: bytes) -> Any:
    if len(ciphertext) < NONCE_BYTES + AEAD_ABYTES:
        raise EnvelopeError("ciphertext is too short")
    nonce, box = ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:]
    try:
        padded = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(box, ad, nonce, key)
        plaintext = bindings.sodium_unpad(padded, PAD_BLOCK)
    except (CryptoError, ValueError):
        raise EnvelopeError("ciphertext does not open: wrong key, altered, or moved") from None
    try:
        return json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EnvelopeError("the decrypted document is not JSON") from None


def padded_size(plaintext_size: int) -> int:
    """Bytes of ciphertext `encrypt_document` produces for a JSON text of `plaintext_size` bytes."""
    return NONCE_BYTES + (plaintext_size // PAD_BLOCK + 1) * PAD_BLOCK + AEAD_ABYTES


# -- report keys -------------------------------------------------------------------------------------------------------


def seal_report_key(report_key: bytes, public_key: bytes, report_id: uuid.UUID, recipient: str) -> bytes:
    """Seal the report key to one recipient; the plaintext names the report and recipient it belongs to."""
    sealed: bytes = SealedBox(PublicKey(public_key)).encrypt(report_key + report_key_context(report_id, recipient))
    return sealed


def open_report_key(sealed: bytes, private_key: bytes, report_id: uuid.UUID, recipient: str) -> bytes:
    try:
        plaintext: bytes = SealedBox(PrivateKey(private_key)).decrypt(sealed)
    except (CryptoError, ValueError):
        raise EnvelopeError("the sealed report key does not open with this private key") from None
    key, bound = plaintext[:KEY_BYTES], plaintext[KEY_BYTES:]
    if len(key) != KEY_BYTES or bound != report_key_context(report_id, recipient):
        raise EnvelopeError("the sealed report key belongs to another report or recipient")
    return key


def public_key_of(private_key: bytes) -> bytes:
    return bytes(PrivateKey(private_key).public_key)


def new_key_pair() -> tuple[bytes, bytes]:
    """(public key, private key) for X25519."""
    private = PrivateKey.generate()
    return bytes(private.public_key), bytes(private)


# -- attachments -------------------------------------------------------------------------------------------------------


def encrypted_size(plaintext_size: int) -> int:
    """Bytes of ciphertext for a file of `plaintext_size` bytes: header plus one tag per chunk (at least one)."""
    chunks = max(1, -(-plaintext_size // CHUNK_BYTES))
    return STREAM_HEADER_BYTES + plaintext_size + chunks * STREAM_ABYTES


@dataclass
class FileSealer:
    """Encrypts a file as it arrives, in constant memory: feed plaintext, collect ciphertext, then `finish()`.

    Also counts the size and computes the SHA-256 of the plaintext, which go into the encrypted attachment metadata.
    """

    key: bytes
    ad: bytes

    def __post_init__(self) -> None:
        self._state = bindings.crypto_secretstream_xchacha20poly1305_state()
        self._header: bytes | None = bindings.crypto_secretstream_xchacha20poly1305_init_push(self._state, self.key)
        self._pending = bytearray()
        self._sha256 = hashlib.sha256()
        self.size = 0

    def _take_header(self) -> bytes:
        header, self._header = self._header or b"", None
        return header

    def feed(self, data: bytes) -> bytes:
        """Plaintext in; whatever ciphertext is ready out (whole chunks only)."""
        self._sha256.update(data)
        self.size += len(data)
        self._pending += data
        out = bytearray(self._take_header())
        # Keep at least one byte pending so the last chunk, which carries the FINAL tag, is never sent early.
        while len(self._pending) > CHUNK_BYTES:
            chunk = bytes(self._pending[:CHUNK_BYTES])
            del self._pending[:CHUNK_BYTES]
            out += bindings.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, self.ad, _TAG_MESSAGE)
        return bytes(out)

    def finish(self) -> bytes:
        out = self._take_header()
        final = bindings.crypto_secretstream_xchacha20poly1305_push(
            self._state, bytes(self._pending), self.ad, _TAG_FINAL
        )
        self._pending.clear()
        return out + final

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


def encrypt_file(source: BinaryIO, key: bytes, ad: bytes) -> Iterator[bytes]:
    """Yield the ciphertext of `source` chunk by chunk (header first)."""
    sealer = FileSealer(key, ad)
    while block := source.read(CHUNK_BYTES):
        if out := sealer.feed(block):
            yield out
    yield sealer.finish()


def decrypt_file(chunks: Iterable[bytes], key: bytes, ad: bytes) -> Iterator[bytes]:
    """Yield the plaintext of a ciphertext stream given as arbitrary byte pieces; raise EnvelopeError when it is
    altered, truncated (no FINAL tag) or followed by extra bytes."""
    buffer = bytearray()
    state = None
    for piece in chunks:
        buffer += piece
        if state is None and len(buffer) >= STREAM_HEADER_BYTES:
            state = bindings.crypto_secretstream_xchacha20poly1305_state()
            try:
                bindings.crypto_secretstream_xchacha20poly1305_init_pull(
                    state, bytes(buffer[:STREAM_HEADER_BYTES]), key
                )
            except (CryptoError, ValueError):
                raise EnvelopeError("the file's stream header is damaged") from None
            del buffer[:STREAM_HEADER_BYTES]
        while state is not None and len(buffer) > CHUNK_BYTES + STREAM_ABYTES:
            yield _pull(state, buffer, CHUNK_BYTES + STREAM_ABYTES, ad, expect_final=False)
    if state is None:
        raise EnvelopeError("the file is shorter than its stream header")
    if len(buffer) < STREAM_ABYTES:
        raise EnvelopeError("the file is truncated")
    yield _pull(state, buffer, len(buffer), ad, expect_final=True)


def _pull(state: Any, buffer: bytearray, size: int, ad: bytes, *, expect_final: bool) -> bytes:
    chunk = bytes(buffer[:size])
    del buffer[:size]
    try:
        plaintext, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
    except (CryptoError, ValueError, RuntimeError):
        raise EnvelopeError("a chunk of the file does not open: wrong key, altered, or moved") from None
    if (tag == _TAG_FINAL) != expect_final:
        raise EnvelopeError("the file is truncated or has bytes after its end")
    return bytes(plaintext)
