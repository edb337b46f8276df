from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tnrwatch.crypto.vault import Sealed, Vault, VaultError, create_key


def test_a_new_key_directory_is_private(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path / "keys")
    key_file = tmp_path / "keys" / f"vault-{vault.active_key_id}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700


def test_seal_and_open(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path)
    sealed = vault.seal(b"Name Surname", b"person 1")
    assert b"Name Surname" not in sealed.ciphertext
    assert vault.open_sealed(sealed, b"person 1") == b"Name Surname"


def test_ciphertext_moved_to_another_record_does_not_open(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path)
    sealed = vault.seal(b"secret", b"person 1")
    with pytest.raises(VaultError, match="moved or altered"):
        vault.open_sealed(sealed, b"person 2")


def test_tampered_ciphertext_does_not_open(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path)
    sealed = vault.seal(b"secret", b"ad")
    flipped = bytes([sealed.ciphertext[-1] ^ 1])
    with pytest.raises(VaultError):
        vault.open_sealed(Sealed(sealed.key_id, sealed.ciphertext[:-1] + flipped), b"ad")


def test_old_keys_still_open_old_records_after_a_new_key(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path)
    old = vault.seal(b"before rotation", b"ad")
    (tmp_path / f"vault-{vault.active_key_id}.key").rename(tmp_path / "vault-20000101T000000-00000000.key")
    old = Sealed("20000101T000000-00000000", old.ciphertext)
    new_id = create_key(tmp_path)
    reopened = Vault.open(tmp_path)
    assert reopened.active_key_id == new_id
    assert reopened.open_sealed(old, b"ad") == b"before rotation"
    assert reopened.seal(b"after", b"ad").key_id == new_id


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    sealed = Vault.open(tmp_path / "a").seal(b"x", b"ad")
    with pytest.raises(VaultError, match="not in the key directory"):
        Vault.open(tmp_path / "b").open_sealed(sealed, b"ad")


def test_damaged_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "vault-abc.key").write_bytes(b"short")
    with pytest.raises(VaultError, match="damaged"):
        Vault.open(tmp_path)


def test_no_key_and_no_create_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="no vault key"):
        Vault.open(tmp_path, create=False)
