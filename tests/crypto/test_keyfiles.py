"""Key files in the key directory: made once with mode 0600, read back the same, refused when damaged or missing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tnrwatch.crypto import keyfiles
from tnrwatch.errors import ConfigurationError


def test_a_key_file_is_made_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "some.key"
    made = keyfiles.read_or_make(path, 32)
    assert len(made) == 32
    assert keyfiles.read_or_make(path, 32) == made
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_or_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "some.key"
    with pytest.raises(ConfigurationError, match="run the upgrade"):
        keyfiles.read_or_make(path, 32, create=False, missing="run the upgrade")
    assert not path.exists()
    path.write_bytes(b"short")
    with pytest.raises(ConfigurationError, match="damaged: 5 bytes, expected 32"):
        keyfiles.read_or_make(path, 32)
