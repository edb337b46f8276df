"""Readers: rows numbered as the file's author sees them, cells as text, unreadable files named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from tnrwatch.errors import InvalidInputError
from tnrwatch.interop.readers import ReadOptions, format_of, open_rows, xlsx_text


def test_csv_rows_count_records_not_lines(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('a,b,,\n1,"two\nlines"\n\n3,4\n5,6,7\n', encoding="utf-8")
    with open_rows(path, "csv", ReadOptions()) as reader:
        assert reader.columns == ("a", "b")  # empty header cells at the end are dropped
        rows = list(reader.rows())
    assert [(row.number, row.cells, row.problem) for row in rows[:2]] == [
        (2, {"a": "1", "b": "two\nlines"}, None),
        (4, {"a": "3", "b": "4"}, None),  # row 3 is blank and skipped
    ]
    assert rows[2].number == 5
    assert rows[2].problem == "the row has 3 cells but the header only 2 columns"


def test_csv_header_row_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("A made-up title line\na;b\n1;2\n", encoding="utf-8")
    with open_rows(path, "csv", ReadOptions(delimiter=";", header_row=2)) as reader:
        assert [(row.number, row.cells) for row in reader.rows()] == [(3, {"a": "1", "b": "2"})]


def test_xlsx_values_become_text(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(["Year", "Count", "When", "Flag", "Text"])
    sheet.append([2021, 3.0, dt.datetime(2021, 5, 4), True, "a_x000D_b"])
    workbook.save(path)
    with open_rows(path, "xlsx", ReadOptions(sheet="Data")) as reader:
        assert [row.cells for row in reader.rows()] == [
            {"Year": "2021", "Count": "3", "When": "2021-05-04", "Flag": "true", "Text": "a\rb"}
        ]
    with (
        pytest.raises(InvalidInputError, match="no sheet named 'Other'"),
        open_rows(path, "xlsx", ReadOptions(sheet="Other")),
    ):
        pass


def test_json_items_that_are_not_objects(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('[{"a": 1}, 2]', encoding="utf-8")
    with open_rows(path, "json", ReadOptions(records="")) as reader:
        rows = list(reader.rows())
    assert [(row.number, row.problem) for row in rows] == [(0, None), (1, "must be a JSON object, not int")]


def test_formats_from_file_names() -> None:
    assert [format_of(Path(name)) for name in ("a.CSV", "b.xlsx", "c.json", "d.txt")] == ["csv", "xlsx", "json", None]
    assert xlsx_text(1.5) == "1.5"
    assert xlsx_text(None) == ""
