"""Read the elements of one array inside a JSON document one at a time, so that a file of a million incidents never
sits in memory whole.

The standard library parses whole documents only; this walks the document's outer objects itself and hands each
array element to `json.JSONDecoder.raw_decode`, refilling a bounded buffer from the file as it goes. Keys outside the
path are decoded whole (they are small in the files we read) and kept in `meta`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

CHUNK_CHARS = 1 << 20
MAX_VALUE_CHARS = 64 << 20  # one element (or one key's value) larger than this is refused, to bound memory
_WHITESPACE = " \t\n\r"
_NUMBER_LOOKAHEAD = 64


class JsonStreamError(ValueError):
    """The document is not valid JSON, or has no array at the path; the message says where."""


class JsonArrayStream:
    """The elements of the array at `path` (a sequence of object keys; empty for a top-level array)."""

    def __init__(self, stream: TextIO, path: Sequence[str]) -> None:
        self._stream = stream
        self._path = tuple(path)
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._dropped_lines = 0
        self.meta: dict[str, Any] = {}
        self._started = False

    def open(self) -> None:
        """Read up to the first element of the array (keys before it land in `meta`)."""
        if self._started:
            return
        self._started = True
        self._descend(self._path, top=True)

    def __iter__(self) -> Iterator[Any]:
        self.open()
        yield from self._elements()
        self._close_objects()

    # -- buffer ----------------------------------------------------------------------------------------------------

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(CHUNK_CHARS)
        if not chunk:
            self._eof = True
            return False
        if self._pos:  # drop what was consumed; positions held by callers are only valid when this returns False
            self._dropped_lines += self._buffer.count("\n", 0, self._pos)
            self._buffer = self._buffer[self._pos :]
            self._pos = 0
        self._buffer += chunk
        return True

    def _where(self) -> str:
        line = self._dropped_lines + self._buffer.count("\n", 0, self._pos) + 1
        column = self._pos - (self._buffer.rfind("\n", 0, self._pos) + 1) + 1
        return f"line {line} column {column}"

    def _fail(self, message: str, *, at: bool = True) -> JsonStreamError:
        return JsonStreamError(f"{message} at {self._where()}" if at else message)

    def _peek(self) -> str:
        """The next character that is not whitespace, without consuming it; '' at the end of the file."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def _expect(self, chars: str) -> str:
        char = self._peek()
        if not char:
            raise self._fail("the file ends too early: it is incomplete", at=False)
        if char not in chars:
            expected = " or ".join(repr(c) for c in chars)
            raise self._fail(f"expected {expected}, found {char!r}")
        self._pos += 1
        return char

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                # Incomplete (it goes on in the next chunk) or invalid: read on, but not without end.
                if len(self._buffer) - self._pos < MAX_VALUE_CHARS and self._fill():
                    continue
                if self._eof and (not self._buffer[exc.pos :].strip() or exc.msg.startswith("Unterminated")):
                    raise self._fail("the file ends too early: it is incomplete", at=False) from None
                self._pos = exc.pos
                raise self._fail(f"invalid JSON: {exc.msg}") from None
            # A number near the end of the buffer may go on in the next chunk ("12" of "12.5e3"): read more first.
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and len(self._buffer) - end < _NUMBER_LOOKAHEAD and self._fill():
                continue
            self._pos = end
            return value

    # -- structure -------------------------------------------------------------------------------------------------

    def _descend(self, path: tuple[str, ...], top: bool) -> None:
        if not path:
            if self._peek() != "[":
                raise self._fail("expected an array")
            self._pos += 1
            return
        self._expect("{")
        if self._peek() == "}":
            raise self._fail(f"no key {path[0]!r}", at=False)
        while True:
            key = self._value()
            if not isinstance(key, str):
                raise self._fail("expected a key")
            self._expect(":")
            if key == path[0]:
                self._descend(path[1:], top=False)
                return
            value = self._value()
            if top:
                self.meta[key] = value
            if self._expect(",}") == "}":
                raise self._fail(f"no key {path[0]!r}", at=False)

    def _elements(self) -> Iterator[Any]:
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._value()
            if self._expect(",]") == "]":
                return

    def _close_objects(self) -> None:
        """Read the rest of the enclosing objects, so that a truncated file is an error, not a short import."""
        for depth in range(len(self._path), 0, -1):
            while self._expect(",}") == ",":
                key = self._value()
                self._expect(":")
                value = self._value()
                if depth == 1 and isinstance(key, str):
                    self.meta[key] = value
        if self._peek():
            raise self._fail("unexpected data after the end of the document")
