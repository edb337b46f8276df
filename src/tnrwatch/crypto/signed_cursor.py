"""Opaque paging cursors a server hands out and takes back, signed so that a client can neither forge nor alter one.

A cursor is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`. The key is the node's cursor key
(`taxii-cursor.key` in the key directory, made on first use), shared by every process of the node, so that any of
them can continue a page another one served, and no other node's cursor opens here. The payload is the caller's:
this module signs and checks bytes, nothing more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache
from pathlib import Path

from tnrwatch.crypto import keyfiles

CURSOR_KEY_FILE = "taxii-cursor.key"
KEY_BYTES = 32
MAX_CURSOR_LENGTH = 2000  # longer than any cursor this node makes; anything longer is refused unread
_SHAPE = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")


@lru_cache(maxsize=16)
def cursor_key(key_dir: Path) -> bytes:
    """The node's cursor key, read once per process (made when missing)."""
    return keyfiles.read_or_make(key_dir / CURSOR_KEY_FILE, KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, payload: bytes) -> str:
    return f"{_b64(payload)}.{_b64(hmac.new(key, payload, hashlib.sha256).digest())}"


def open_cursor(key: bytes, cursor: str) -> bytes | None:
    """The payload of a cursor signed with `key`; None for anything else (altered, truncated, made by another node,
    not a cursor at all). Compares signatures in constant time."""
    if len(cursor) > MAX_CURSOR_LENGTH or not _SHAPE.fullmatch(cursor):
        return None
    body, _, mac = cursor.partition(".")
    try:
        payload, signature = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        return None
    if _b64(payload) != body or _b64(signature) != mac:
        return None  # a non-canonical spelling of the same bytes: not a cursor this node wrote
    if not hmac.compare_digest(signature, hmac.new(key, payload, hashlib.sha256).digest()):
        return None
    return payload
