"""Secrets of the public intake, kept in the key directory (never in the database): the receipt pepper and the
proof-of-work key. One file, `intake.key` (32 random bytes, mode 0600); both are derived from it with HMAC."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tnrwatch.errors import ConfigurationError

_FILE = "intake.key"


@dataclass(frozen=True)
class IntakeKeys:
    receipt_pepper: bytes
    pow_key: bytes

    @classmethod
    def open(cls, key_dir: Path, *, create: bool = True) -> IntakeKeys:
        path = key_dir / _FILE
        if not path.exists():
            if not create:
                raise ConfigurationError(f"no {_FILE} in {key_dir}; run `tnrwatch db upgrade` to create it")
            key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secrets.token_bytes(32))
                    handle.flush()
                    os.fsync(handle.fileno())
        master = path.read_bytes()
        if len(master) != 32:
            raise ConfigurationError(f"{path} is damaged: {len(master)} bytes, expected 32")
        return cls(
            receipt_pepper=hmac.new(master, b"receipt-pepper", hashlib.sha256).digest(),
            pow_key=hmac.new(master, b"proof-of-work", hashlib.sha256).digest(),
        )
