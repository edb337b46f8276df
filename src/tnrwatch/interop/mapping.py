"""Apply a mapping file to rows of a foreign dataset: each row becomes raw input for `IncidentIn`, or errors.

The engine never raises on a cell's content: whatever a row holds, it comes back as values or as errors that name
the field, the column and the value at fault. Validation of the result is left to `IncidentIn`, like any input.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tnrwatch.domain.country_names import resolve_country
from tnrwatch.errors import FieldError
from tnrwatch.interop.mapping_spec import (
    LIST_FIELDS,
    NESTED_MODELS,
    PLACEHOLDER,
    DateSpec,
    FieldPath,
    FieldSpec,
    MappingSpec,
    SkipRule,
    Value,
    normalize_value,
    parse_path,
    read_spec,
    values_table,
)
from tnrwatch.interop.readers import ReadOptions
from tnrwatch.taxonomy import Taxonomy

ID_NAMESPACE = uuid.UUID("6f0c35f4-5d0b-5a51-9c1e-7a1d2b0e4c11")  # fixed: ids made by uuid5 stay the same across runs
_MISSING = object()


@dataclass(frozen=True)
class MappedRow:
    """`raw` is None when a skip rule matched; `errors` have locations relative to the incident (field paths)."""

    raw: dict[str, Any] | None
    errors: list[FieldError]


@dataclass(frozen=True)
class _Field:
    key: str
    path: FieldPath
    spec: FieldSpec
    table: dict[str, Value]
    crosswalk: dict[str, str]
    columns: tuple[str, ...]

    @property
    def is_list(self) -> bool:
        return self.path[0] in LIST_FIELDS


def _texts(value: Any) -> list[str]:
    """A cell as a list of non-empty texts: a JSON list gives several, an empty cell none."""
    if value is None or value is _MISSING:
        return []
    if isinstance(value, str):
        text = value.strip()
        return [text] if text else []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return [json.dumps(value, ensure_ascii=False)]


def _cell(cells: Mapping[str, Any], column: str) -> list[str]:
    value = cells.get(column, _MISSING)
    if value is _MISSING and "." in column:  # JSON records: a dotted path into nested objects
        value = cells
        for part in column.split("."):
            value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
    return _texts(value)


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(repr(column) for column in columns)


class MappingEngine:
    def __init__(self, spec: MappingSpec, taxonomy: Taxonomy, label: str) -> None:
        self.spec = spec
        self.label = label
        self._constants = [(parse_path(key), value) for key, value in spec.constants.items()]
        self._fields = [self._compile(key, field, taxonomy) for key, field in spec.fields.items()]
        self._skip = [(rule, re.compile(rule.matches) if rule.matches else None) for rule in spec.skip]
        date_start = next((f for f in self._fields if f.path == ("date_start",)), None)
        precision_given = "date_precision" in spec.constants or "date_precision" in spec.fields
        self._precision_from = date_start if date_start and date_start.spec.date and not precision_given else None

    @classmethod
    def load(cls, path: Path, taxonomy: Taxonomy, label: str | None = None) -> MappingEngine:
        label = label or str(path)
        return cls(read_spec(path, taxonomy, label), taxonomy, label)

    @staticmethod
    def _compile(key: str, field: FieldSpec, taxonomy: Taxonomy) -> _Field:
        reverse: dict[str, str] = {}
        if field.crosswalk is not None:
            crosswalk = taxonomy.crosswalks[field.crosswalk]
            for term in crosswalk.categories:
                ours = crosswalk.reverse(term.code)
                if ours:  # the map lists the closest of our codes first
                    reverse[normalize_value(term.code)] = ours[0]
                    reverse.setdefault(normalize_value(term.label), ours[0])
        return _Field(key, parse_path(key), field, values_table(field.values), reverse, tuple(field.read_columns()))

    def read_options(self) -> ReadOptions:
        options = self.spec.options
        return ReadOptions(
            delimiter=options.delimiter,
            encoding=options.encoding,
            sheet=options.sheet,
            header_row=options.header_row,
            records=options.records,
        )

    def column_errors(self, columns: Sequence[str]) -> list[tuple[str, str]]:
        """(column, message) for each column the mapping reads that the file's header lacks."""
        known = set(columns)
        wanted = [(f"fields.{field.key}", column) for field in self._fields for column in field.columns]
        wanted += [(f"skip[{index}]", rule.column) for index, (rule, _) in enumerate(self._skip)]
        return [
            (
                column,
                f"the mapping's {where} reads this column, which the file does not have; "
                f"its columns are: {_quoted(columns)}",
            )
            for where, column in wanted
            if column not in known
        ]

    def columns_of(self, loc: Sequence[str | int]) -> list[str]:
        """The columns that feed the field at `loc` (or the fields below it), to say where an error came from."""
        found: list[str] = []
        for field in self._fields:
            prefix = min(len(loc), len(field.path))
            if prefix and tuple(loc[:prefix]) == field.path[:prefix]:
                found += [column for column in field.columns if column not in found]
        return found

    # -- one row ---------------------------------------------------------------------------------------------------

    def apply(self, cells: Mapping[str, Any]) -> MappedRow:
        if any(self._skips(rule, pattern, cells) for rule, pattern in self._skip):
            return MappedRow(None, [])
        raw: dict[str, Any] = {}
        elements: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in NESTED_MODELS}
        mapped_elements: dict[tuple[str, int], bool] = {}  # element -> whether any of its columns had a value
        errors: list[FieldError] = []
        for path, value in self._constants:
            self._set(raw, elements, path, value)
        for field in self._fields:
            values, messages = self._values(field, cells)
            errors += [FieldError(field.path, message) for message in messages]
            if len(field.path) == 3:
                element = (str(field.path[0]), int(field.path[1]))
                mapped_elements[element] = mapped_elements.get(element, False) or bool(values)
            if not values:
                continue
            if field.is_list:
                self._set(raw, elements, field.path, [str(value) for value in values])
            elif len(values) > 1:
                errors.append(
                    FieldError(
                        field.path,
                        f"takes one value, but column {_quoted(field.columns)} gives "
                        f"{len(values)}: {', '.join(repr(v) for v in values)}",
                    )
                )
            else:
                self._set(raw, elements, field.path, values[0])
        if self._precision_from is not None and "date_start" in raw:
            precision = self._precision(self._precision_from, cells)
            if precision is not None:
                raw["date_precision"] = precision
        for name, by_index in elements.items():
            kept = [by_index[i] for i in sorted(by_index) if mapped_elements.get((name, i), True)]
            if kept:
                raw[name] = kept
        return MappedRow(raw, errors)

    @staticmethod
    def _set(raw: dict[str, Any], elements: dict[str, dict[int, dict[str, Any]]], path: FieldPath, value: Any) -> None:
        if len(path) == 1:
            raw[str(path[0])] = value
        else:
            elements[str(path[0])].setdefault(int(path[1]), {})[str(path[2])] = value

    @staticmethod
    def _skips(rule: SkipRule, pattern: re.Pattern[str] | None, cells: Mapping[str, Any]) -> bool:
        texts = _cell(cells, rule.column)
        text = " | ".join(texts)
        key = normalize_value(text)

        def one_of(values: str | list[str]) -> bool:
            return key in {normalize_value(v) for v in ([values] if isinstance(values, str) else values)}

        checks = [
            rule.equals is None or one_of(rule.equals),
            rule.not_equals is None or not one_of(rule.not_equals),
            rule.empty is None or rule.empty == (not texts),
            pattern is None or pattern.search(text) is not None,
        ]
        return all(checks)

    def _texts(self, field: _Field, cells: Mapping[str, Any]) -> list[str]:
        spec = field.spec
        if spec.template is not None:
            filled = [False]

            def fill(match: re.Match[str]) -> str:
                texts = _cell(cells, match.group(1))
                filled[0] = filled[0] or bool(texts)
                return " ".join(texts)

            text = " ".join(PLACEHOLDER.sub(fill, spec.template).split())
            texts = [text] if filled[0] and text else []
        else:
            texts = [text for column in field.columns for text in _cell(cells, column)]
            if spec.columns is not None and not field.is_list:
                texts = texts[:1]  # several columns into one value: the first that has one
        if spec.split is not None:
            texts = [part.strip() for text in texts for part in text.split(spec.split) if part.strip()]
        if spec.pick is not None:
            texts = [texts[spec.pick]] if -len(texts) <= spec.pick < len(texts) else []
        return texts

    def _values(self, field: _Field, cells: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
        spec = field.spec
        texts = self._texts(field, cells)
        if not texts:
            return ([] if spec.default is None else [spec.default]), []
        if isinstance(spec.present, dict):  # the value of the first listed column that has one
            column = next((c for c in field.columns if c in spec.present and _cell(cells, c)), None)
            if column is None:
                return ([] if spec.default is None else [spec.default]), []
            return [spec.present[column]], []
        if spec.present is not None:
            return [spec.present], []
        values: list[Any] = []
        errors: list[str] = []
        for text in texts:
            for value, error in self._translate(field, text):
                if error is not None:
                    errors.append(error)
                elif value is not None:
                    values.append(value)
        if spec.uuid5 and values:
            name = f"{self.spec.name}\n{' '.join(str(value) for value in values)}"
            values = [str(uuid.uuid5(ID_NAMESPACE, name))]
        return values, errors

    def _translate(self, field: _Field, text: str) -> list[tuple[Any, str | None]]:
        """One foreign value -> our values (several when a table maps it to a list), or an error."""
        spec = field.spec
        where = f"column {_quoted(field.columns)}"
        if spec.date is not None:
            parsed = parse_date(text, spec.date)
            if isinstance(parsed, str):
                return [(None, f"{where}: {parsed}")]
            return [(parsed[0].isoformat() if parsed else None, None)]
        key = normalize_value(text)
        if key in field.table:
            mapped = field.table[key]
            return [(item, None) for item in mapped] if isinstance(mapped, list) else [(mapped, None)]
        if key in field.crosswalk:
            return [(field.crosswalk[key], None)]
        if spec.country:
            code = resolve_country(text)
            if code is None:
                return [
                    (
                        None,
                        f"{where}: {text!r} is not a country name or code tnrwatch knows; add it to "
                        f"fields.{field.key}.values",
                    )
                ]
            return [(code, None)]
        if not field.table and not field.crosswalk:
            return [(text, None)]
        if spec.unmapped == "keep":
            return [(text, None)]
        if spec.unmapped == "drop":
            return []
        tables = "values" + (f" or the {spec.crosswalk} crosswalk" if spec.crosswalk else "")
        return [
            (
                None,
                f"{where}: {text!r} is not in the mapping's {tables} for {field.key}; add it to "
                f"fields.{field.key}.values",
            )
        ]

    def _precision(self, field: _Field, cells: Mapping[str, Any]) -> str | None:
        date_spec = field.spec.date
        if date_spec is None:
            return None
        for text in self._texts(field, cells):
            parsed = parse_date(text, date_spec)
            if isinstance(parsed, tuple):
                return parsed[1]
        return None


def parse_date(text: str, spec: DateSpec) -> tuple[dt.date, str] | str | None:
    """(date, precision), None when the chosen part of a range is absent, or an error message."""
    if spec.range is not None:
        if spec.range in text:
            start, _, end = text.partition(spec.range)
            text = (end if spec.part == "end" else start).strip()
        elif spec.part == "end":
            return None
        if not text:
            return None
    for fmt in (*spec.formats, "%Y-%m-%d"):
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except (ValueError, TypeError):
            continue
        return parsed.date(), spec.precision if spec.precision != "auto" else _format_precision(fmt)
    return f"{text!r} is not a date in the format{'s' if len(spec.formats) > 1 else ''} {', '.join(spec.formats)}"


def _format_precision(fmt: str) -> str:
    if any(directive in fmt for directive in ("%d", "%j", "%x", "%c", "%U", "%W")):
        return "day"
    if any(directive in fmt for directive in ("%m", "%b", "%B")):
        return "month"
    return "year"
