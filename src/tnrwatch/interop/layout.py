"""Our own table layout for incidents: one row per incident, in CSV, XLSX and JSON, exact in both directions.

Columns are the fields of `IncidentIn` in order, then read-only columns from `IncidentOut` that an import ignores.
Lists of codes are joined with ";"; nested lists (locations, sources, persons, actors, indicators) are JSON arrays in
one cell (an indicator's note and dates would not survive a "kind:value" list).

Spreadsheet cells are escaped against formula injection: a text that starts with = + - @, a tab or a carriage
return, or with a single quote, gets one leading single quote. Reading our layout strips one leading quote, so a
title that really starts with "=" or "'" survives the round trip. See docs/import-export.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from tnrwatch.domain.incident import INCIDENT_FIELDS, IncidentOut
from tnrwatch.errors import FieldError

FORMAT_NAME = "tnrwatch-incidents"
FORMAT_VERSION = 1
READ_ONLY_COLUMNS: tuple[str, ...] = ("tactic_families", "version", "created_at", "updated_at", "coded_by")
COLUMNS: tuple[str, ...] = (*INCIDENT_FIELDS, *READ_ONLY_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = ("title", "date_start", "locations", "origin_countries", "tactics")
CODE_LISTS = frozenset({"origin_countries", "tactics", "target_categories", "vulnerability_flags", "tactic_families"})
NESTED_LISTS = frozenset({"locations", "sources", "persons", "actors", "indicators"})
LIST_SEPARATOR = ";"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_SCALAR, _CODES, _NESTED, _READ_ONLY = "scalar", "codes", "nested", "read-only"
_KINDS: dict[str, str] = {
    **dict.fromkeys(CODE_LISTS, _CODES),
    **dict.fromkeys(NESTED_LISTS, _NESTED),
    **dict.fromkeys(READ_ONLY_COLUMNS, _READ_ONLY),
}


def escape_formula(text: str) -> str:
    """Make a text safe for a spreadsheet cell: prefix one quote when it could start a formula (or already starts
    with a quote, so that `unescape_formula` can always undo it)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unescape_formula(text: str) -> str:
    """Undo `escape_formula`: strip one leading quote."""
    return text[1:] if text.startswith("'") else text


def _json_default(value: Any) -> str:
    if isinstance(value, dt.date | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} into a JSON cell")


def _json_cell(values: Sequence[BaseModel]) -> str:
    # The fields' own values, not model_dump(): exports call this for every location and source of every incident.
    items = [{key: value for key, value in vars(item).items() if value is not None} for item in values]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def incident_cells(incident: IncidentOut) -> list[str]:
    """The incident's cells in `COLUMNS` order, as plain (unescaped) text; empty text for a missing value."""
    cells: list[str] = []
    for column in COLUMNS:
        value = getattr(incident, column)
        if value is None:
            cells.append("")
        elif column in CODE_LISTS:
            cells.append(LIST_SEPARATOR.join(value))
        elif column in NESTED_LISTS:
            cells.append(_json_cell(value))
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        elif isinstance(value, str):
            cells.append(value)
        elif hasattr(value, "isoformat"):
            cells.append(value.isoformat())
        else:
            cells.append(str(value))
    return cells


def incident_document(incident: IncidentOut) -> dict[str, Any]:
    """The incident as one element of a JSON export's `incidents` array."""
    return incident.model_dump(mode="json")


def column_errors(columns: Sequence[str]) -> list[tuple[str, str]]:
    """Problems with a header row of our layout, as (column, message): unknown, repeated or missing columns."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.append((column, "the column appears more than once"))
        elif column not in COLUMNS:
            problems.append((column, f"unknown column; the columns are: {', '.join(COLUMNS)}"))
        seen.add(column)
    problems += [(column, "required column is missing") for column in REQUIRED_COLUMNS if column not in seen]
    return problems


def cells_to_raw(cells: Mapping[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """One row of our layout (text cells by column) -> raw incident input for `IncidentIn`, and the errors of
    cells that cannot even be read (a nested list that is not a JSON array). Empty cells are left out, so that
    the field takes its default. (This runs for every row of an import: it is written for speed.)"""
    raw: dict[str, Any] = {}
    errors: list[FieldError] = []
    for column, text in cells.items():
        if not text:
            continue
        kind = _KINDS.get(column, _SCALAR)
        if kind is _READ_ONLY:
            continue
        if text[0] == "'":
            text = text[1:]
        if kind is _SCALAR:
            raw[column] = text
        elif kind is _CODES:
            raw[column] = [part.strip() for part in text.split(LIST_SEPARATOR) if part and not part.isspace()]
        elif text == "[]":
            raw[column] = []
        else:
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                errors.append(FieldError((column,), f"must be a JSON array ({exc})"))
                continue
            if not isinstance(parsed, list):
                errors.append(FieldError((column,), "must be a JSON array, e.g. [] or [{...}]"))
                continue
            raw[column] = parsed
    return raw, errors


def document_to_raw(document: Any) -> tuple[dict[str, Any], list[FieldError]]:
    """One element of a JSON export's `incidents` array -> raw incident input, without the read-only keys."""
    if not isinstance(document, dict):
        return {}, [FieldError((), "must be a JSON object (one incident)")]
    return {key: value for key, value in document.items() if key not in READ_ONLY_COLUMNS}, []
