"""Signed webhooks: HMAC-SHA256 over the timestamp and the body, under the subscription's secret.

The node sends three headers with every POST:

    X-Tnrwatch-Delivery:  the delivery's id (the same on every re-send: the receiver's idempotency key)
    X-Tnrwatch-Timestamp: Unix time of this attempt, in seconds
    X-Tnrwatch-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>

A receiver recomputes the HMAC over the exact bytes it received, compares in constant time, and refuses a timestamp
too far from its own clock (a replayed old request). `verify` does all three; it is what the tests use, and what
docs/operations.md shows a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import time

DELIVERY_HEADER = "X-Tnrwatch-Delivery"
TIMESTAMP_HEADER = "X-Tnrwatch-Timestamp"
SIGNATURE_HEADER = "X-Tnrwatch-Signature"
SCHEME = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300


class BadSignatureError(ValueError):
    """The request is not signed with the secret, was changed on the way, or is too old to accept."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Tnrwatch-Signature value for `body` sent at `timestamp`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SCHEME + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise BadSignatureError unless `signature` is `body`'s at `timestamp` under `secret` and `timestamp` lies
    within `tolerance` seconds of `now` (default: this machine's clock)."""
    if not timestamp.isdigit():
        raise BadSignatureError("the timestamp is not a Unix time")
    sent_at = int(timestamp)
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        raise BadSignatureError("the timestamp is too far from now: a replayed or delayed request")
    if not hmac.compare_digest(sign(secret, sent_at, body), signature):
        raise BadSignatureError("the signature does not match the body")
