"""Secrets kept one per file in the node's key directory (never in the database): made once, mode 0600, fsynced."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tnrwatch.errors import ConfigurationError


def read_or_make(path: Path, size: int, *, create: bool = True, missing: str = "") -> bytes:
    """The `size` random bytes kept at `path`, made when the file is missing (unless `create` is False: then
    ConfigurationError with `missing`). Safe when two processes race to make it: the file is created with O_EXCL, and
    the loser reads the winner's bytes."""
    if not path.exists():
        if not create:
            raise ConfigurationError(missing or f"no {path.name} in {path.parent}")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(size))
                handle.flush()
                os.fsync(handle.fileno())
    data = path.read_bytes()
    if len(data) != size:
        raise ConfigurationError(f"{path} is damaged: {len(data)} bytes, expected {size}")
    return data
