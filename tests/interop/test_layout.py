"""Our own layout: formula escaping that round-trips, cells that read back into the same incident."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tnrwatch.domain.incident import INCIDENT_FIELDS, IncidentIn, IncidentOut
from tnrwatch.domain.validation import validate
from tnrwatch.interop.layout import (
    COLUMNS,
    cells_to_raw,
    column_errors,
    document_to_raw,
    escape_formula,
    incident_cells,
    incident_document,
    unescape_formula,
)
from tnrwatch.taxonomy import default_taxonomy

from ..factories import incident_data

TAXONOMY = default_taxonomy()


def stored(**overrides: Any) -> IncidentOut:
    """An incident as `load_incidents` returns it."""
    incident = validate(IncidentIn, incident_data(**overrides), TAXONOMY)
    now = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    return IncidentOut.model_validate(
        {
            **incident.model_dump(),
            "id": incident.id or uuid.uuid4(),
            "taxonomy_version": TAXONOMY.version,
            "tactic_families": ["physical"],
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
    )


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+31 20 555", "'+31 20 555"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted'", "''quoted'"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_formula_escaping(text: str, escaped: str) -> None:
    assert escape_formula(text) == escaped
    assert unescape_formula(escaped) == text


@given(st.text())
def test_escaping_always_round_trips_and_never_starts_a_formula(text: str) -> None:
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_cells_read_back_into_the_same_incident() -> None:
    incident = stored(
        title='=HYPERLINK("http://x")',
        summary="'starts with a quote'\nand has\ttabs",
        vulnerability_flags=["woman", "refugee"],
        target_count=4,
        provenance="Made-up source",
    )
    cells = dict(zip(COLUMNS, (escape_formula(cell) for cell in incident_cells(incident)), strict=True))
    raw, errors = cells_to_raw(cells)
    assert errors == []
    again = validate(IncidentIn, raw, TAXONOMY)
    assert again.model_dump() == incident.model_dump(include=set(INCIDENT_FIELDS))


def test_code_lists_and_nested_lists_in_cells() -> None:
    cells = dict(zip(COLUMNS, incident_cells(stored(tactics=["abduction", "threats"])), strict=True))
    assert cells["tactics"] == "abduction;threats"
    assert cells["locations"].startswith("[{")
    assert '"lat":41.01' in cells["locations"]
    assert cells["persons"] == "[]"
    assert cells["mass_event"] == "false"
    assert cells["synthetic"] == "false"


def test_unreadable_nested_cells_are_errors() -> None:
    raw, errors = cells_to_raw({"title": "x", "locations": "not json", "sources": '{"title": "x"}'})
    assert {error.loc for error in errors} == {("locations",), ("sources",)}
    assert raw == {"title": "x"}


def test_read_only_columns_are_ignored_and_empty_cells_left_out() -> None:
    raw, errors = cells_to_raw({"title": "x", "version": "7", "created_at": "2020", "summary": "", "target_count": ""})
    assert errors == []
    assert raw == {"title": "x"}


def test_header_problems() -> None:
    problems = dict(column_errors(["id", "title", "tactic", "title"]))
    assert "unknown column" in problems["tactic"]
    assert "more than once" in problems["title"]
    assert problems["tactics"] == "required column is missing"
    assert column_errors(list(COLUMNS)) == []


def test_json_documents_drop_read_only_keys() -> None:
    document = incident_document(stored())
    raw, errors = document_to_raw(document)
    assert errors == []
    assert "version" not in raw
    assert "tactic_families" not in raw
    assert document_to_raw([1, 2])[1][0].msg == "must be a JSON object (one incident)"
