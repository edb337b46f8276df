"""The streaming JSON array reader: same elements as json.loads, bounded buffer, clear errors for broken files."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.interop import jsonstream
from tnrwatch.interop.jsonstream import JsonArrayStream, JsonStreamError

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=15,
)


def elements(text: str, path: list[str]) -> tuple[list[Any], dict[str, Any]]:
    stream = JsonArrayStream(io.StringIO(text), path)
    return list(stream), stream.meta


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(JSON_VALUES, max_size=8),
    before=st.dictionaries(st.sampled_from(["format", "count", "x"]), JSON_VALUES, max_size=3),
    after=st.dictionaries(st.sampled_from(["y", "z"]), JSON_VALUES, max_size=2),
    indent=st.sampled_from([None, 1]),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_reads_what_json_wrote(
    items: list[Any], before: dict[str, Any], after: dict[str, Any], indent: int | None, chunk: int
) -> None:
    document = {**before, "incidents": items, **after}
    original = jsonstream.CHUNK_CHARS
    jsonstream.CHUNK_CHARS = chunk  # tiny chunks: every element straddles a buffer boundary somewhere
    try:
        found, meta = elements(json.dumps(document, indent=indent), ["incidents"])
        top, _ = elements(json.dumps(items), [])
    finally:
        jsonstream.CHUNK_CHARS = original
    assert found == items
    assert top == items
    assert meta == {**before, **after}


def test_nested_path() -> None:
    found, meta = elements('{"data": {"n": 1, "items": [1, {"a": 2}]}, "z": 3}', ["data", "items"])
    assert found == [1, {"a": 2}]
    assert meta == {"z": 3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"incidents": [1, 2', "ends too early"),
        ('{"incidents": [1, 2]', "ends too early"),
        ('{"other": []}', "no key 'incidents'"),
        ('{"incidents": {"a": 1}}', "expected an array"),
        ('{"incidents": [1,\n 2,\n {"a": tru}]}', "invalid JSON"),
        ('{"incidents": []} trailing', "unexpected data"),
        ("", "ends too early"),
    ],
)
def test_broken_documents_are_errors(text: str, message: str) -> None:
    with pytest.raises(JsonStreamError, match=message):
        elements(text, ["incidents"])


def test_error_names_the_line() -> None:
    with pytest.raises(JsonStreamError, match="line 3"):
        elements('{"incidents": [1,\n 2,\n {"a": tru}]}', ["incidents"])
