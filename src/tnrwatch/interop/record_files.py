"""Small batches of records (notices, registry entries) out of a JSON or CSV file, numbered for error messages.

JSON: a list of records, a document with the list under `collection` (e.g. {"notices": [...]}), Interpol's search
answer ({"_embedded": {"notices": [...]}}), or one record alone (one of Interpol's notice pages). Records are
numbered by their index from 0, as `interop.readers` numbers JSON. CSV: one record per row, numbered as a
spreadsheet shows them; cells are text, and an empty cell is left out (so the model's default applies). Multi-valued
CSV cells are split with `split_cell`.

These files are hundreds or thousands of records, not millions: a JSON file is read whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.interop.readers import ReadOptions, Row, format_of, open_rows

RECORD_FORMATS: tuple[str, ...] = ("json", "csv")
LIST_SEPARATOR = ";"


def split_cell(text: str) -> list[str]:
    """A multi-valued CSV cell ("UZ; TJ") as its values, blanks dropped."""
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _unreadable(label: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"cannot read {label}: {message}", [FieldError((label,), message)])


def read_records(path: Path, fmt: str | None, label: str, collection: str) -> tuple[str, list[Row]]:
    """The file's format and its records. A file that cannot be read raises `InvalidInputError` naming it."""
    fmt = fmt or format_of(path)
    if fmt not in RECORD_FORMATS:
        given = f"{fmt!r} is not a format for this import" if fmt else "the file name does not say the format"
        raise InvalidInputError(
            f"cannot tell how to read {label}",
            [FieldError((label,), f"{given}; give --format {'|'.join(RECORD_FORMATS)}")],
        )
    if fmt == "csv":
        with open_rows(path, "csv", ReadOptions(), label) as reader:
            rows = [
                Row(row.number, {key: value for key, value in row.cells.items() if str(value).strip()}, row.problem)
                for row in reader.rows()
            ]
        return fmt, rows
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise _unreadable(label, exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise _unreadable(label, f"not valid UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise _unreadable(label, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    return fmt, [_json_row(index, item) for index, item in enumerate(_records_of(document, collection, label))]


def _records_of(document: Any, collection: str, label: str) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        embedded = document.get("_embedded")
        for holder in (document, embedded if isinstance(embedded, dict) else {}):
            if collection in holder:
                records = holder[collection]
                if not isinstance(records, list):
                    raise _unreadable(label, f"{collection!r} must be a list of records")
                return records
        if "name" in document or "full_name" in document:
            return [document]  # one record alone (Interpol's page of one notice)
    raise _unreadable(
        label, f"expected a list of records, or a document with the list under {collection!r} or _embedded.{collection}"
    )


def _json_row(index: int, item: Any) -> Row:
    if isinstance(item, dict):
        return Row(index, item)
    return Row(index, {}, f"must be a JSON object, not {type(item).__name__}")
