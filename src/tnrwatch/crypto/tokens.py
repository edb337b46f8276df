"""Personal API tokens: 256 random bits, a recognisable prefix and a checksum, stored only as a SHA-256 digest.

Format: `tnr_` (staff) or `tnp_` (partner nodes) + 43 characters of URL-safe base64 (the secret) + 6 hex characters
(CRC-32 of the secret, truncated).
The checksum lets clients and secret scanners reject a mistyped or truncated token without asking the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import zlib

TOKEN_PREFIX = "tnr_"  # noqa: S105 (a public marker, not a secret)
PARTNER_TOKEN_PREFIX = "tnp_"  # noqa: S105 (the same): a partner node's TAXII token, told apart from a staff one
_SHAPE = r"([A-Za-z0-9_-]{43})([0-9a-f]{6})$"


def _checksum(secret: str) -> str:
    return f"{zlib.crc32(secret.encode('ascii')):08x}"[:6]


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return f"{prefix}{secret}{_checksum(secret)}"


def is_well_formed(token: str, prefix: str = TOKEN_PREFIX) -> bool:
    match = re.match(re.escape(prefix) + _SHAPE, token)
    return match is not None and hmac.compare_digest(_checksum(match.group(1)), match.group(2))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters of a token, safe to show in listings so that a user can tell their tokens apart."""
    return token[:10]
