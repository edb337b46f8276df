"""Incident exports, written as they are read: CSV, XLSX and JSON in our layout, and GeoJSON for maps.

Every writer takes incidents a page at a time, so that an export of a million incidents holds one page in memory
(XLSX: openpyxl's write-only mode spools rows to a temporary file). Every format says whether it holds synthetic
incidents: a `synthetic` column (CSV, XLSX), a top-level flag (JSON, GeoJSON) and an "about" sheet (XLSX).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

from tnrwatch.domain.incident import IncidentOut
from tnrwatch.interop.geojson import features
from tnrwatch.interop.layout import (
    COLUMNS,
    FORMAT_NAME,
    FORMAT_VERSION,
    escape_formula,
    incident_cells,
    incident_document,
)

EXPORT_FORMATS: tuple[str, ...] = ("csv", "json", "xlsx", "geojson")
XLSX_MAX_ROWS = 1_048_576  # one header row plus this many minus one incidents fit on one Excel sheet
_XLSX_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
SYNTHETIC_NOTICE = (
    "SYNTHETIC DATA: some or all incidents in this export are made up (demo data) and describe no real event or "
    "person. Do not cite, share or analyse them as real."
)


@dataclass(frozen=True)
class ExportInfo:
    """What an export says about itself."""

    taxonomy_version: str
    synthetic: bool
    count: int
    exported_at: dt.datetime
    filters: dict[str, Any] = field(default_factory=dict)


class IncidentWriter(Protocol):
    def write(self, incidents: Sequence[IncidentOut]) -> None: ...

    def close(self) -> None:
        """Finish the file; the sink stays open (it may be stdout)."""
        ...


def open_writer(fmt: str, sink: BinaryIO, info: ExportInfo) -> IncidentWriter:
    if fmt == "csv":
        return CsvWriter(sink)
    if fmt == "json":
        return JsonWriter(sink, info)
    if fmt == "xlsx":
        return XlsxWriter(sink, info)
    if fmt == "geojson":
        return GeoJsonWriter(sink, info)
    raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}")


class CsvWriter:
    def __init__(self, sink: BinaryIO) -> None:
        self._text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=False)
        self._csv = csv.writer(self._text)
        self._csv.writerow(COLUMNS)

    def write(self, incidents: Sequence[IncidentOut]) -> None:
        self._csv.writerows([escape_formula(cell) for cell in incident_cells(incident)] for incident in incidents)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _header(info: ExportInfo) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "taxonomy_version": info.taxonomy_version,
        "synthetic": info.synthetic,
        "exported_at": info.exported_at.isoformat(),
        "count": info.count,
        "filters": info.filters,
    }


class _JsonArrayWriter:
    """A JSON object whose last key holds an array, written one element per line."""

    def __init__(self, sink: BinaryIO, head: dict[str, Any], key: str) -> None:
        self._sink = sink
        self._first = True
        opening = _dumps(head)[:-1] + ("," if head else "") + _dumps(key) + ":[\n"
        self._sink.write(opening.encode())

    def _items(self, items: Sequence[dict[str, Any]]) -> None:
        if not items:
            return
        text = ",\n".join(_dumps(item) for item in items)
        self._sink.write((text if self._first else ",\n" + text).encode())
        self._first = False

    def close(self) -> None:
        self._sink.write(b"\n]}\n")
        self._sink.flush()


class JsonWriter(_JsonArrayWriter):
    def __init__(self, sink: BinaryIO, info: ExportInfo) -> None:
        super().__init__(sink, _header(info), "incidents")

    def write(self, incidents: Sequence[IncidentOut]) -> None:
        self._items([incident_document(incident) for incident in incidents])


class GeoJsonWriter(_JsonArrayWriter):
    """RFC 7946 FeatureCollection, one feature per location (see `interop.geojson` for what is hidden)."""

    def __init__(self, sink: BinaryIO, info: ExportInfo) -> None:
        head = {
            "type": "FeatureCollection",
            "taxonomy_version": info.taxonomy_version,
            "synthetic": info.synthetic,
            "exported_at": info.exported_at.isoformat(),
        }
        super().__init__(sink, head, "features")

    def write(self, incidents: Sequence[IncidentOut]) -> None:
        self._items(list(features(incidents)))


def xlsx_escape(text: str) -> str:
    """Encode what an XLSX string cannot hold as is, the way Excel does: characters XML forbids or rewrites (a
    carriage return) as _xHHHH_, and a literal _xHHHH_ as _x005F_xHHHH_. `readers.xlsx_unescape` decodes it."""

    def encode(match: re.Match[str]) -> str:
        found = match.group(0)
        return "_x005F" + found if len(found) > 1 else f"_x{ord(found):04X}_"

    return _XLSX_UNSAFE.sub(encode, text)


class XlsxWriter:
    """Sheet "about" says what the workbook holds (and that it is synthetic, when it is); sheet "incidents" holds one
    incident per row. Every cell is a text cell: formula-escaped, never a formula or an error value."""

    def __init__(self, sink: BinaryIO, info: ExportInfo) -> None:
        if info.count >= XLSX_MAX_ROWS:
            raise ValueError(
                f"{info.count} incidents do not fit on one XLSX sheet (at most {XLSX_MAX_ROWS - 1}); "
                "narrow the filters or export CSV or JSON"
            )
        self._sink = sink
        self._workbook = openpyxl.Workbook(write_only=True)
        about = self._workbook.create_sheet("about")
        self._sheet = self._workbook.create_sheet("incidents")
        for key, value in _about_rows(info):
            about.append([self._cell(about, key), self._cell(about, value)])
        self._sheet.append([self._cell(self._sheet, column) for column in COLUMNS])

    @staticmethod
    def _cell(sheet: Any, text: str) -> Any:
        value = xlsx_escape(escape_formula(text))
        if value in ERROR_CODES:  # openpyxl would store "#N/A" as an error value, not as text
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def write(self, incidents: Sequence[IncidentOut]) -> None:
        for incident in incidents:
            self._sheet.append([self._cell(self._sheet, text) for text in incident_cells(incident)])

    def close(self) -> None:
        self._workbook.save(self._sink)
        self._sink.flush()


def _about_rows(info: ExportInfo) -> list[tuple[str, str]]:
    rows = [
        ("format", FORMAT_NAME),
        ("format_version", str(FORMAT_VERSION)),
        ("taxonomy_version", info.taxonomy_version),
        ("exported_at", info.exported_at.isoformat()),
        ("incidents", str(info.count)),
        ("synthetic", "true" if info.synthetic else "false"),
        ("filters", _dumps(info.filters)),
    ]
    if info.synthetic:
        rows.insert(0, ("WARNING", SYNTHETIC_NOTICE))
    return rows
