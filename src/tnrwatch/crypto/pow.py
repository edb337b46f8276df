"""A small proof of work instead of a CAPTCHA or an IP address: before a report or an upload is accepted, the
browser spends a moment of computation on a challenge the server signed.

A challenge is 42 bytes, sent as URL-safe base64: version (1), difficulty in bits (1), expiry as Unix seconds
(8, big-endian), a random nonce (16) and HMAC-SHA256 of those 26 bytes with the node's proof-of-work key, truncated to
16 bytes. A solution is a counter (0 <= n < 2^53) such that BLAKE2b-256(challenge bytes || counter as 8 bytes
big-endian) starts with `bits` zero bits. Verifying costs one HMAC and one hash; the nonce is then spent (the store
remembers it until expiry), so a solution works once. The server keeps no state until a challenge is spent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
from dataclasses import dataclass

_VERSION = 1
_BODY = struct.Struct(">BBQ16s")
_MAC_BYTES = 16
CHALLENGE_BYTES = _BODY.size + _MAC_BYTES
MAX_COUNTER = 2**53  # JavaScript counts exactly up to here


class ProofOfWorkError(ValueError):
    """The challenge is forged, expired or malformed, or the counter does not solve it."""


@dataclass(frozen=True)
class Challenge:
    bits: int
    expires: int
    nonce: bytes
    token: str


def issue(pow_key: bytes, bits: int, ttl_seconds: int = 600, now: float | None = None) -> Challenge:
    expires = int((time.time() if now is None else now) + ttl_seconds)
    nonce = secrets.token_bytes(16)
    body = _BODY.pack(_VERSION, bits, expires, nonce)
    mac = hmac.new(pow_key, body, hashlib.sha256).digest()[:_MAC_BYTES]
    token = base64.urlsafe_b64encode(body + mac).decode("ascii").rstrip("=")
    return Challenge(bits, expires, nonce, token)


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def _digest(raw: bytes, counter: int) -> bytes:
    # hashlib's BLAKE2b is libsodium's crypto_generichash without a key (same bytes), at C speed per call.
    return hashlib.blake2b(raw + counter.to_bytes(8, "big"), digest_size=32).digest()


def verify(pow_key: bytes, token: str, counter: int, min_bits: int, now: float | None = None) -> Challenge:
    """Check a solution; return the challenge (whose nonce the caller must record as spent)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise ProofOfWorkError("the challenge is not base64") from None
    if len(raw) != CHALLENGE_BYTES:
        raise ProofOfWorkError("the challenge has the wrong length")
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(hmac.new(pow_key, body, hashlib.sha256).digest()[:_MAC_BYTES], mac):
        raise ProofOfWorkError("the challenge was not issued by this node")
    version, bits, expires, nonce = _BODY.unpack(body)
    if version != _VERSION or bits < min_bits:
        raise ProofOfWorkError("the challenge is of an old kind or too easy")
    if expires < (time.time() if now is None else now):
        raise ProofOfWorkError("the challenge has expired")
    if not 0 <= counter < MAX_COUNTER or leading_zero_bits(_digest(raw, counter)) < bits:
        raise ProofOfWorkError("the counter does not solve the challenge")
    return Challenge(bits, expires, nonce, token)


def failing_counter(token: str) -> int:
    """A counter that does not solve the challenge (for tests of refusals)."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    counter = 0
    while leading_zero_bits(_digest(raw, counter)) >= raw[1]:
        counter += 1
    return counter


def solve(token: str) -> int:
    """Find a counter (what the browser does; here for tests, benchmarks and the CLI)."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    bits = raw[1]
    counter = 0
    while leading_zero_bits(_digest(raw, counter)) < bits:
        counter += 1
    return counter
