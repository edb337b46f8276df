"""Screening keys: keyed hashes that depend on the key, an export line that checks itself, node keys kept one per
file (0600) with the newest current, rotation and retiring, and keys partners gave this node."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tnrwatch.crypto import blind_index as keys
from tnrwatch.crypto.blind_index import ScreeningKey
from tnrwatch.errors import ConflictError, InvalidInputError, NotFoundError


def test_hashes_depend_on_the_key_and_on_nothing_else() -> None:
    one, other = ScreeningKey(b"\x01" * 32), ScreeningKey(b"\x02" * 32)
    assert one.digest("pp:rhmf+tlns") == ScreeningKey(b"\x01" * 32).digest("pp:rhmf+tlns")
    assert one.digest("pp:rhmf+tlns") != other.digest("pp:rhmf+tlns")
    assert one.digest("pp:rhmf+tlns") != one.digest("pp:rhmf+tlnt")
    assert len(one.digest("x")) == keys.DIGEST_BYTES
    assert one.key_id != other.key_id
    assert len(one.key_id) == 16
    assert one.secret.hex() not in repr(one)


def test_an_export_line_round_trips_and_a_damaged_one_is_refused() -> None:
    key = ScreeningKey(bytes(range(32)))
    line = key.export()
    assert line.startswith("tnrwatch-screening-key-v1:" + key.key_id + ":")
    assert keys.parse_export("  " + line + "\n") == key
    damaged = line[:-1] + ("0" if line[-1] != "0" else "1")
    for bad in (damaged, line.replace("v1", "v2"), "a3f9", ""):
        with pytest.raises(InvalidInputError) as caught:
            keys.parse_export(bad)
        assert caught.value.errors[0].loc == ("key",)


def test_node_keys_rotate_and_only_older_ones_retire(tmp_path: Path) -> None:
    assert keys.node_keys(tmp_path) == []
    assert keys.current_key(tmp_path) is None
    first = keys.new_node_key(tmp_path)
    second = keys.new_node_key(tmp_path)
    held = keys.node_keys(tmp_path)
    assert [item.key_id for item in held] == [first.key_id, second.key_id]
    current = keys.current_key(tmp_path)
    assert current is not None
    assert current.key_id == second.key_id
    for path in (tmp_path / keys.NODE_KEY_DIR).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ConflictError):
        keys.retire_node_key(tmp_path, second.key_id)
    with pytest.raises(NotFoundError):
        keys.retire_node_key(tmp_path, "0" * 16)
    keys.retire_node_key(tmp_path, first.key_id)
    assert [item.key_id for item in keys.node_keys(tmp_path)] == [second.key_id]


def test_a_swapped_key_file_is_noticed(tmp_path: Path) -> None:
    held = keys.new_node_key(tmp_path)
    (tmp_path / keys.NODE_KEY_DIR / f"0001-{held.key_id}.key").write_bytes(b"\x07" * 32)
    with pytest.raises(ConflictError, match="damaged"):
        keys.node_keys(tmp_path)


def test_partner_keys_are_kept_per_partner(tmp_path: Path) -> None:
    key = ScreeningKey(b"\x05" * 32)
    with pytest.raises(NotFoundError, match="screening-key import"):
        keys.partner_key(tmp_path, "fr-node")
    keys.save_partner_key(tmp_path, "fr-node", key)
    assert keys.partner_key(tmp_path, "fr-node") == key
    assert stat.S_IMODE(keys.partner_key_path(tmp_path, "fr-node").stat().st_mode) == 0o600
    with pytest.raises(InvalidInputError):
        keys.partner_key_path(tmp_path, "../etc")
