"""Exports: formulas escaped in CSV and XLSX, every cell text, synthetic data marked in every format."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from tnrwatch.interop.layout import COLUMNS
from tnrwatch.interop.readers import xlsx_unescape
from tnrwatch.interop.writers import SYNTHETIC_NOTICE, ExportInfo, open_writer, xlsx_escape

from .test_layout import stored

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://x","y")', "'=already quoted"]


def info(synthetic: bool = False, count: int = 1) -> ExportInfo:
    return ExportInfo(taxonomy_version="1.0.0", synthetic=synthetic, count=count,
                      exported_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))  # fmt: skip


def export(fmt: str, synthetic: bool = False, **overrides: object) -> bytes:
    sink = io.BytesIO()
    writer = open_writer(fmt, sink, info(synthetic))
    writer.write([stored(synthetic=synthetic, **overrides)])
    writer.close()
    return sink.getvalue()


def test_csv_escapes_formulas() -> None:
    for formula in FORMULAS:
        rows = list(csv.reader(io.StringIO(export("csv", title=formula, summary=formula).decode())))
        assert rows[0] == list(COLUMNS)
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["title"] == "'" + formula
        assert row["summary"] == "'" + formula
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in rows[1])


def test_xlsx_cells_are_text_never_formulas() -> None:
    for formula in [*FORMULAS, "#N/A", "#REF!"]:
        workbook = openpyxl.load_workbook(io.BytesIO(export("xlsx", title=formula)))
        sheet = workbook["incidents"]
        header = [cell.value for cell in sheet[1]]
        assert header == list(COLUMNS)
        title = sheet.cell(row=2, column=header.index("title") + 1)
        assert title.data_type == "s"
        assert title.value == (formula if formula.startswith("#") else "'" + formula)
        assert not any(cell.data_type in ("f", "e") for row in sheet.iter_rows() for cell in row)
        workbook.close()


def test_xlsx_about_sheet_says_synthetic() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(export("xlsx", synthetic=True)), read_only=True)
    assert workbook.sheetnames == ["about", "incidents"]
    about = dict(workbook["about"].iter_rows(values_only=True))
    assert about["WARNING"] == SYNTHETIC_NOTICE
    assert about["synthetic"] == "true"
    workbook.close()
    workbook = openpyxl.load_workbook(io.BytesIO(export("xlsx")), read_only=True)
    about = dict(workbook["about"].iter_rows(values_only=True))
    assert "WARNING" not in about
    assert about["synthetic"] == "false"
    workbook.close()


def test_json_and_geojson_carry_the_synthetic_flag() -> None:
    document = json.loads(export("json", synthetic=True))
    assert document["format"] == "tnrwatch-incidents"
    assert document["format_version"] == 1
    assert document["synthetic"] is True
    assert document["incidents"][0]["synthetic"] is True
    collection = json.loads(export("geojson", synthetic=True))
    assert collection["type"] == "FeatureCollection"
    assert collection["synthetic"] is True
    assert collection["features"][0]["properties"]["synthetic"] is True


def test_csv_has_a_synthetic_column() -> None:
    rows = list(csv.DictReader(io.StringIO(export("csv", synthetic=True).decode())))
    assert rows[0]["synthetic"] == "true"


def test_empty_exports_are_valid() -> None:
    for fmt in ("json", "geojson"):
        sink = io.BytesIO()
        writer = open_writer(fmt, sink, info(count=0))
        writer.close()
        assert json.loads(sink.getvalue())


@given(st.text())
def test_xlsx_escaping_round_trips(text: str) -> None:
    escaped = xlsx_escape(text)
    assert xlsx_unescape(escaped) == text
    assert "\r" not in escaped
    assert "\ufffe" not in escaped
