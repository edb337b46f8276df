"""Receipts: the one secret a reporter keeps to come back to a report.

A receipt is 128 random bits written as 26 Crockford base32 symbols, followed by a 6-symbol checksum (the BCH code
of Bech32, which detects any error touching up to four symbols, so every single-symbol typo and every transposition),
shown in eight groups of four: `7KQ2-M9XA-...`. Reading is forgiving: case, spaces and hyphens do not matter, and
O/I/L read as 0/1/1 as Crockford intends.

From the 16 secret bytes two independent values are derived with keyed BLAKE2b (`crypto_generichash`):
- the **lookup token**, which the browser sends to find the report; the server keeps only HMAC-SHA256(pepper, token)
  with the pepper in the node's key directory, never in the database. The lookup is one indexed equality: no
  per-report key stretching and no global lock.
- the **reporter key pair** (X25519 from a seed), to which the report key is sealed, so that the reporter can read
  the officers' replies and the server cannot.
The browser does the same in static/tnr-crypto.js; `docs/report-format.md` specifies both.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from nacl import bindings
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

SECRET_BYTES = 16
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
DATA_SYMBOLS = 26  # 130 bits: the 128 secret bits, then two zero bits
CHECK_SYMBOLS = 6
GROUP = 4
_CHECK_PREFIX = "tnr"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_LOOKUP_LABEL = b"tnrwatch/1/receipt-lookup"
_REPORTER_KEY_LABEL = b"tnrwatch/1/reporter-key"


class ReceiptError(ValueError):
    """The text is not a receipt: wrong length, a character outside the alphabet, or a failed checksum."""


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _prefix_values() -> list[int]:
    return [ord(c) >> 5 for c in _CHECK_PREFIX] + [0] + [ord(c) & 31 for c in _CHECK_PREFIX]


def _checksum(data: list[int]) -> list[int]:
    polymod = _polymod(_prefix_values() + data + [0] * CHECK_SYMBOLS) ^ 1
    return [(polymod >> 5 * (CHECK_SYMBOLS - 1 - i)) & 31 for i in range(CHECK_SYMBOLS)]


def _to_symbols(secret: bytes) -> list[int]:
    number = int.from_bytes(secret, "big") << 2
    return [(number >> 5 * (DATA_SYMBOLS - 1 - i)) & 31 for i in range(DATA_SYMBOLS)]


def encode(secret: bytes) -> str:
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"a receipt secret has {SECRET_BYTES} bytes")
    data = _to_symbols(secret)
    text = "".join(ALPHABET[v] for v in data + _checksum(data))
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def new_receipt() -> tuple[str, bytes]:
    """A fresh receipt: (the text to show, its 16 secret bytes)."""
    secret = secrets.token_bytes(SECRET_BYTES)
    return encode(secret), secret


def normalise(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    return "".join(_READ_AS.get(ch, ch) for ch in cleaned)


def decode(text: str) -> bytes:
    """The secret bytes of a receipt; ReceiptError names what is wrong (for the reporter's own screen only)."""
    cleaned = normalise(text)
    if len(cleaned) != DATA_SYMBOLS + CHECK_SYMBOLS:
        raise ReceiptError(
            f"a receipt has {DATA_SYMBOLS + CHECK_SYMBOLS} letters and digits; this one has {len(cleaned)}"
        )
    bad = sorted({ch for ch in cleaned if ch not in ALPHABET})
    if bad:
        raise ReceiptError(f"a receipt does not contain {', '.join(bad)}")
    values = [ALPHABET.index(ch) for ch in cleaned]
    data, check = values[:DATA_SYMBOLS], values[DATA_SYMBOLS:]
    if _checksum(data) != check:
        raise ReceiptError("this receipt has a typing error: check each group again")
    number = 0
    for value in data:
        number = number << 5 | value
    if number & 0b11:
        raise ReceiptError("this receipt has a typing error: check each group again")
    return (number >> 2).to_bytes(SECRET_BYTES, "big")


def lookup_token(secret: bytes) -> bytes:
    return bytes(blake2b(_LOOKUP_LABEL, digest_size=32, key=secret, encoder=RawEncoder))


def reporter_key_pair(secret: bytes) -> tuple[bytes, bytes]:
    """(public key, private key) of the reporter's X25519 key pair."""
    seed = bytes(blake2b(_REPORTER_KEY_LABEL, digest_size=32, key=secret, encoder=RawEncoder))
    public, private = bindings.crypto_box_seed_keypair(seed)
    return bytes(public), bytes(private)


def lookup_hash(pepper: bytes, token: bytes) -> str:
    """What the database keeps of a lookup token."""
    return hmac.new(pepper, token, hashlib.sha256).hexdigest()
