"""Rows out of CSV, XLSX and JSON files, one at a time, numbered the way the person who made the file sees them.

CSV and XLSX rows are numbered as a spreadsheet shows them (the header is row 1 unless `header_row` says otherwise;
a cell spanning several lines is still one row); JSON rows by their index in the records array, from 0. Cells come
back as text (XLSX numbers and dates are turned into text the way our layout writes them); JSON records as decoded.
A file that cannot be read at all raises `InvalidInputError` naming the file; a row that is malformed carries a
`problem`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.jsonstream import JsonArrayStream, JsonStreamError

FORMATS: tuple[str, ...] = ("csv", "json", "xlsx")
CSV_FIELD_LIMIT = 64 << 20  # a JSON cell of 200 sources is far above the csv module's default of 128 KiB
_XLSX_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True)
class ReadOptions:
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    sheet: str | None = None
    header_row: int = 1
    records: str | None = "incidents"  # JSON: dotted path of the records array; empty for a top-level array


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, Any]
    problem: str | None = None


class RowReader(Protocol):
    """One open file. `columns` is the header (None for JSON); `meta` holds a JSON document's other top-level keys
    (those before the records array are known before the first row)."""

    @property
    def columns(self) -> tuple[str, ...] | None: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    def rows(self) -> Iterator[Row]: ...

    def progress(self) -> tuple[int, int]:
        """(done, total) in a unit of the reader's choosing (bytes, rows), for a progress bar."""
        ...


def format_of(path: Path) -> str | None:
    """The format a file name's extension names, if any."""
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


def _unreadable(label: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"cannot read {label}: {message}", [FieldError((label,), message)])


@contextlib.contextmanager
def open_rows(path: Path, fmt: str, options: ReadOptions, label: str | None = None) -> Iterator[RowReader]:
    """Open `path` as `fmt`; `label` names the file in errors (default: the path as given)."""
    label = label or str(path)
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"unknown format {fmt!r}", [FieldError(("format",), f"use one of: {', '.join(FORMATS)}")]
        )
    if fmt == "xlsx":
        with _xlsx_rows(path, options, label) as reader:
            yield reader
        return
    try:
        binary = path.open("rb")
    except OSError as exc:
        raise _unreadable(label, exc.strerror or str(exc)) from None
    with binary:
        size = path.stat().st_size
        if fmt == "csv":
            yield CsvRows(binary, size, options, label)
        else:
            yield JsonRows(binary, size, options, label)


def header_columns(header: list[str]) -> tuple[str, ...]:
    """Header cells, trimmed; empty cells at the end dropped; an empty cell elsewhere named by its position."""
    names = [cell.strip() for cell in header]
    while names and not names[-1]:
        names.pop()
    return tuple(name or f"(column {index + 1})" for index, name in enumerate(names))


def _row_from_cells(columns: tuple[str, ...], number: int, values: list[Any]) -> Row | None:
    """A row from its cells, or None for a blank row; cells beyond the header must be empty."""
    if not any(value != "" for value in values):
        return None
    problem = None
    if len(values) > len(columns) and any(value != "" for value in values[len(columns) :]):
        problem = f"the row has {len(values)} cells but the header only {len(columns)} columns"
    padded = values + [""] * (len(columns) - len(values))
    return Row(number, dict(zip(columns, padded, strict=False)), problem)


def _read_header(
    next_record: Callable[[], list[str] | None], header_row: int, label: str, where: str
) -> tuple[str, ...]:
    """Read records up to the header row; its column names, or an error naming the file (and sheet)."""
    header: list[str] | None = None
    for _ in range(header_row):
        header = next_record()
        if header is None:
            raise _unreadable(label, f"{where} has no header row (row {header_row})")
    columns = header_columns(header or [])
    if not columns:
        raise _unreadable(label, f"row {header_row} of {where}, the header row, is empty")
    return columns


class CsvRows:
    def __init__(self, binary: BinaryIO, size: int, options: ReadOptions, label: str) -> None:
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        self._binary = binary
        self._size = size
        self._label = label
        self._text = io.TextIOWrapper(binary, encoding=options.encoding, newline="")
        self._reader = csv.reader(self._text, delimiter=options.delimiter, strict=True)
        self._number = 0
        self._columns = _read_header(self._next, options.header_row, label, "the file")

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    @property
    def meta(self) -> dict[str, Any]:
        return {}

    def _next(self) -> list[str] | None:
        try:
            record = next(self._reader, None)
        except UnicodeDecodeError as exc:
            raise _unreadable(
                self._label,
                f"row {self._number + 1} is not valid text ({exc.reason}); save the file as UTF-8 or name its encoding",
            ) from None
        except csv.Error as exc:
            raise _unreadable(self._label, f"row {self._number + 1} is not valid CSV: {exc}") from None
        self._number += 1
        return record

    def rows(self) -> Iterator[Row]:
        while (record := self._next()) is not None:
            row = _row_from_cells(self._columns, self._number, record)
            if row is not None:
                yield row

    def progress(self) -> tuple[int, int]:
        with contextlib.suppress(OSError, ValueError):
            return self._binary.tell(), self._size
        return 0, self._size


class JsonRows:
    def __init__(self, binary: BinaryIO, size: int, options: ReadOptions, label: str) -> None:
        self._binary = binary
        self._size = size
        self._label = label
        path = [part for part in (options.records or "").split(".") if part]
        self._where = ".".join(path) or "the top-level array"
        self._stream = JsonArrayStream(io.TextIOWrapper(binary, encoding=options.encoding), path)
        self._guard(self._stream.open)

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except JsonStreamError as exc:
            raise _unreadable(self._label, f"{exc} (reading {self._where})") from None
        except UnicodeDecodeError as exc:
            raise _unreadable(self._label, f"not valid UTF-8 text ({exc.reason})") from None

    @property
    def columns(self) -> None:
        return None

    @property
    def meta(self) -> dict[str, Any]:
        return self._stream.meta

    def rows(self) -> Iterator[Row]:
        elements = iter(self._stream)
        index = 0
        while True:
            element = self._guard(lambda: next(elements, _END))
            if element is _END:
                return
            if isinstance(element, dict):
                yield Row(index, element)
            else:
                yield Row(index, {}, f"must be a JSON object, not {type(element).__name__}")
            index += 1

    def progress(self) -> tuple[int, int]:
        with contextlib.suppress(OSError, ValueError):
            return self._binary.tell(), self._size
        return 0, self._size


_END = object()


def xlsx_unescape(text: str) -> str:
    """Decode the _xHHHH_ escapes of OOXML strings (Excel writes a carriage return as _x000D_)."""
    if "_x" not in text:
        return text
    return _XLSX_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def xlsx_text(value: Any) -> str:
    """An XLSX cell value as text: numbers without a spurious ".0", dates as ISO 8601, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, str):
        return xlsx_unescape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class XlsxRows:
    def __init__(self, workbook: Any, options: ReadOptions, label: str) -> None:
        self._label = label
        names = workbook.sheetnames
        name = options.sheet or ("incidents" if "incidents" in names else names[0])
        if name not in names:
            raise _unreadable(label, f"no sheet named {name!r}; the sheets are: {', '.join(names)}")
        sheet = workbook[name]
        self._total = sheet.max_row or 0
        self._values = sheet.iter_rows(values_only=True)
        self._number = 0
        self._columns = _read_header(self._next, options.header_row, label, f"sheet {name!r}")

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    @property
    def meta(self) -> dict[str, Any]:
        return {}

    def _next(self) -> list[str] | None:
        try:
            values = next(self._values, None)
        except (ParseError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise _unreadable(self._label, f"row {self._number + 1} cannot be read ({exc})") from None
        self._number += 1
        return None if values is None else [xlsx_text(value) for value in values]

    def rows(self) -> Iterator[Row]:
        while (values := self._next()) is not None:
            row = _row_from_cells(self._columns, self._number, values)
            if row is not None:
                yield row

    def progress(self) -> tuple[int, int]:
        return self._number, max(self._total, self._number)


@contextlib.contextmanager
def _xlsx_rows(path: Path, options: ReadOptions, label: str) -> Iterator[XlsxRows]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise _unreadable(label, "no such file") from None
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ParseError, ValueError) as exc:
        raise _unreadable(label, f"not an XLSX workbook ({exc})") from None
    try:
        yield XlsxRows(workbook, options, label)
    finally:
        workbook.close()
