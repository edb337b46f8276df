"""Signed paging cursors: what one key signs opens with that key only, byte for byte; anything altered, re-spelt,
truncated or too long is refused; the node's key is made once, private, and read back the same."""

from __future__ import annotations

import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tnrwatch.crypto import signed_cursor

KEY = b"k" * 32


@given(st.binary(max_size=300))
def test_a_cursor_opens_with_its_key_only(payload: bytes) -> None:
    cursor = signed_cursor.sign(KEY, payload)
    assert signed_cursor.open_cursor(KEY, cursor) == payload
    assert signed_cursor.open_cursor(b"o" * 32, cursor) is None


@given(st.binary(min_size=1, max_size=100), st.data())
def test_any_changed_character_is_refused(payload: bytes, data: st.DataObject) -> None:
    cursor = signed_cursor.sign(KEY, payload)
    position = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("AQgw_-.=+/ \n").filter(lambda c: c != cursor[position]))
    assert signed_cursor.open_cursor(KEY, cursor[:position] + replacement + cursor[position + 1 :]) is None


def test_truncated_padded_and_oversized_cursors_are_refused() -> None:
    cursor = signed_cursor.sign(KEY, b"[1,2,3]")
    for bad in (cursor[:-1], cursor + "=", cursor + "\n", "", ".", cursor.split(".")[0], "x" * 5000):
        assert signed_cursor.open_cursor(KEY, bad) is None


def test_the_node_key_is_made_once_and_private(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    first = signed_cursor.cursor_key(key_dir)
    path = key_dir / signed_cursor.CURSOR_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signed_cursor.cursor_key.cache_clear()
    assert signed_cursor.cursor_key(key_dir) == first == path.read_bytes()
    assert len(first) == 32
