"""Secrets of the public intake, kept in the key directory (never in the database): the receipt pepper and the
proof-of-work key. One file, `intake.key` (32 random bytes, mode 0600); both are derived from it with HMAC."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from tnrwatch.crypto import keyfiles

_FILE = "intake.key"


@dataclass(frozen=True)
class IntakeKeys:
    receipt_pepper: bytes
    pow_key: bytes

    @classmethod
    def open(cls, key_dir: Path, *, create: bool = True) -> IntakeKeys:
        missing = f"no {_FILE} in {key_dir}; run `tnrwatch db upgrade` to create it"
        master = keyfiles.read_or_make(key_dir / _FILE, 32, create=create, missing=missing)
        return cls(
            receipt_pepper=hmac.new(master, b"receipt-pepper", hashlib.sha256).digest(),
            pow_key=hmac.new(master, b"proof-of-work", hashlib.sha256).digest(),
        )
