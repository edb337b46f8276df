"""Mapping files: YAML that says how a foreign CSV, XLSX or JSON dataset becomes our incidents, without code.

The spec is declared here as pydantic models and checked when the file is loaded, against our model (every field
path must exist) and the taxonomy (every code in a `values` table or a constant must be valid), so that a typo in a
mapping fails once, naming the mapping key, instead of failing every row. docs/import-export.md documents the keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tnrwatch.domain.countries import is_country_code
from tnrwatch.domain.incident import INCIDENT_FIELDS, ActorLink, Indicator, Location, PersonLink, Source
from tnrwatch.domain.validation import field_errors
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.taxonomy import Taxonomy

SHIPPED_DIRECTORY = Path(__file__).parent / "mappings"
Value = str | bool | int | float | list[str] | None
FieldPath = tuple[str | int, ...]

NESTED_MODELS: dict[str, type[BaseModel]] = {
    "locations": Location,
    "sources": Source,
    "persons": PersonLink,
    "actors": ActorLink,
    "indicators": Indicator,
}
LIST_FIELDS = frozenset({"origin_countries", "tactics", "target_categories", "vulnerability_flags"})
COUNTRY_FIELDS = frozenset({"origin_countries", "locations.country"})
DATE_FIELDS = frozenset(
    {"date_start", "date_end", "sources.published_on", "indicators.first_seen", "indicators.last_seen"}
)
# Field (by its path without indexes) -> the taxonomy vocabulary its codes come from.
VOCABULARY_FIELDS: dict[str, str] = {
    "tactics": "tactics",
    "target_categories": "target_categories",
    "vulnerability_flags": "vulnerability_flags",
    "host_state_role": "host_state_roles",
    "verification": "verification_levels",
    "tlp": "tlp",
    "date_precision": "date_precision",
    "locations.geo_precision": "geo_precision",
    "sources.reliability": "source_reliability",
    "sources.credibility": "source_credibility",
    "persons.role": "person_roles",
    "actors.role": "actor_roles",
}
_PATH_PART = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionsSpec(_Spec):
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV: the character between cells.")
    encoding: str = Field("utf-8-sig", description="CSV and JSON: the text encoding (Python codec name).")
    sheet: str | None = Field(None, description="XLSX: the sheet to read; default: the first.")
    header_row: int = Field(1, ge=1, le=1000, description="CSV and XLSX: the row that names the columns.")
    records: str = Field("", description="JSON: dotted path to the array of records; empty: a top-level array.")


class SkipRule(_Spec):
    """Skip a row when all the conditions given hold for `column` (a mapping's rules are alternatives)."""

    column: str
    equals: str | list[str] | None = None
    not_equals: str | list[str] | None = None
    empty: bool | None = None
    matches: str | None = None

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_condition(self) -> Self:
        if self.equals is None and self.not_equals is None and self.empty is None and self.matches is None:
            raise ValueError("give at least one condition: equals, not_equals, empty or matches")
        return self


class DateSpec(_Spec):
    formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d", "%Y-%m", "%Y"],
        min_length=1,
        description="strptime formats tried in order; ISO 8601 (%Y-%m-%d) is always tried last.",
    )
    precision: Literal["auto", "day", "month", "year", "estimate"] = Field(
        "auto", description="The date precision to record; auto: from the format that matched."
    )
    range: str | None = Field(None, min_length=1, description="Separator of a date range held in one cell.")
    part: Literal["start", "end"] = Field("start", description="With `range`: which end of the range to take.")


class FieldSpec(_Spec):
    column: str | None = None
    columns: list[str] | None = Field(None, min_length=1)
    template: str | None = None
    split: str | None = Field(None, min_length=1)
    pick: int | None = None
    values: dict[str, Value] | None = None
    crosswalk: str | None = None
    unmapped: Literal["error", "keep", "drop"] = "error"
    country: bool = False
    date: DateSpec | None = None
    present: Value | dict[str, Value] = None
    default: Value = None
    uuid5: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [name for name in ("column", "columns", "template") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column, columns or template")
        return self

    def read_columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.columns is not None:
            return list(self.columns)
        return PLACEHOLDER.findall(self.template or "")


def _column_shorthand(value: Any) -> Any:
    """`title: Title` is short for `title: {column: Title}`."""
    if isinstance(value, dict):
        return {key: {"column": spec} if isinstance(spec, str) else spec for key, spec in value.items()}
    return value


class MappingSpec(_Spec):
    mapping: Literal[1] = Field(description="The version of this spec.")
    name: str = Field(min_length=1)
    description: str = ""
    format: Literal["csv", "json", "xlsx"] | None = None
    options: OptionsSpec = Field(default_factory=OptionsSpec)
    skip: list[SkipRule] = Field(default_factory=list)
    constants: dict[str, Value] = Field(default_factory=dict)
    fields: Annotated[dict[str, FieldSpec], Field(default_factory=dict)]

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _column_shorthand(value)


def parse_path(text: str) -> FieldPath:
    """'locations[0].country' -> ('locations', 0, 'country'); raise ValueError saying what is wrong."""
    parts = text.split(".")
    first = _PATH_PART.match(parts[0])
    if first is None or first.group(1) not in INCIDENT_FIELDS:
        raise ValueError(f"{text!r} does not name a field of an incident; fields: {', '.join(INCIDENT_FIELDS)}")
    name, index = first.group(1), first.group(2)
    model = NESTED_MODELS.get(name)
    if model is None:
        if index is not None or len(parts) > 1:
            raise ValueError(f"{name!r} is a single field: write {name!r} alone")
        return (name,)
    if index is None or len(parts) != 2:
        raise ValueError(f"address one part of one {name[:-1]}, e.g. '{name}[0].{next(iter(model.model_fields))}'")
    if parts[1] not in model.model_fields:
        raise ValueError(f"a {name[:-1]} has no field {parts[1]!r}; its fields: {', '.join(model.model_fields)}")
    return (name, int(index), parts[1])


def generic_path(path: FieldPath) -> str:
    """('locations', 0, 'country') -> 'locations.country', the key of the tables above."""
    return ".".join(str(part) for part in path if isinstance(part, str))


def check_value(path: FieldPath, value: Value, taxonomy: Taxonomy) -> str | None:
    """A message when `value` (from a values table or a constant) cannot be valid for the field at `path`."""
    field = generic_path(path)
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and field not in LIST_FIELDS:
        return f"{field} takes one value, not a list"
    vocabulary = VOCABULARY_FIELDS.get(field)
    for item in values:
        if item is None:
            continue
        if (vocabulary or field in COUNTRY_FIELDS) and not isinstance(item, str):
            return (
                f"{item!r} is not a code: write codes as text, in quotes where YAML would read them otherwise "
                "(yes, no, on, off, numbers)"
            )
        if vocabulary and isinstance(item, str):
            error = taxonomy.vocabulary(vocabulary).check(item, ())
            if error is not None:
                return error.msg
        if field in COUNTRY_FIELDS and isinstance(item, str) and not is_country_code(item):
            return f"{item!r} is not an ISO 3166-1 alpha-2 country code"
    return None


class _UniqueStringKeyLoader(yaml.SafeLoader):
    """Mapping keys are kept as written (YAML would read `No:` as false and `2021:` as a number, and a values table
    needs them as text), and a key given twice is an error instead of the last one silently winning."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else self.construct_object(key_node)
            if key in result:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
                )
            result[key] = self.construct_object(value_node, deep=True)
        return result


def shipped_mappings() -> dict[str, Path]:
    """The mapping files that come with tnrwatch, by name (file name without .yaml)."""
    return {path.stem: path for path in sorted(SHIPPED_DIRECTORY.glob("*.yaml"))}


def locate_mapping(name_or_path: str) -> Path:
    """A mapping file path as given, or the shipped mapping of that name (e.g. 'uwazi')."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    return shipped_mappings().get(name_or_path, path)


def read_spec(path: Path, taxonomy: Taxonomy, label: str | None = None) -> MappingSpec:
    """Load and check a mapping file; raise `InvalidInputError` listing every problem at its key."""
    label = label or str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueStringKeyLoader)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError:
        known = ", ".join(shipped_mappings())
        raise InvalidInputError(
            f"no mapping file {label}", [FieldError((label,), f"no such file; the shipped mappings are: {known}")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read the mapping {label}", [FieldError((label,), str(exc))]) from None
    except yaml.YAMLError as exc:
        message = f"not valid YAML: {' '.join(str(exc).split())}"
        raise InvalidInputError(f"the mapping {label} is invalid", [FieldError((label,), message)]) from None
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        errors = field_errors(exc, prefix=(label,))
        raise InvalidInputError(f"the mapping {label} is invalid ({len(errors)} problems)", errors) from None
    errors = [FieldError((label, *loc), message) for loc, message in _semantic_problems(spec, taxonomy)]
    if errors:
        raise InvalidInputError(f"the mapping {label} is invalid ({len(errors)} problems)", errors)
    return spec


def _semantic_problems(spec: MappingSpec, taxonomy: Taxonomy) -> list[tuple[FieldPath, str]]:
    problems: list[tuple[FieldPath, str]] = []
    paths: dict[str, FieldPath] = {}
    for section, keys in (("constants", spec.constants), ("fields", spec.fields)):
        for key in keys:
            try:
                path = parse_path(key)
            except ValueError as exc:
                problems.append(((section, key), str(exc)))
                continue
            if key in paths:
                problems.append(((section, key), "is given both as a constant and as a field"))
            paths[key] = path
    for key, value in spec.constants.items():
        if key in paths and (message := check_value(paths[key], value, taxonomy)):
            problems.append((("constants", key), message))
    for key, field in spec.fields.items():
        if key in paths:
            problems += [
                (("fields", key, *loc), message) for loc, message in _field_problems(paths[key], field, taxonomy)
            ]
    return problems


def _field_problems(path: FieldPath, field: FieldSpec, taxonomy: Taxonomy) -> list[tuple[FieldPath, str]]:
    problems: list[tuple[FieldPath, str]] = []
    generic = generic_path(path)
    seen: dict[str, str] = {}
    for foreign, value in (field.values or {}).items():
        if message := check_value(path, value, taxonomy):
            problems.append((("values", foreign), message))
        key = normalize_value(foreign)
        if key in seen:
            problems.append((("values", foreign), f"is the same value as {seen[key]!r} (case and spaces are ignored)"))
        seen[key] = foreign
    present = field.present if isinstance(field.present, dict) else {"": field.present}
    for column, value in present.items():
        if column and column not in field.read_columns():
            problems.append((("present", column), "is not one of the field's columns"))
        if message := check_value(path, value, taxonomy):
            problems.append((("present", column) if column else ("present",), message))
    if message := check_value(path, field.default, taxonomy):
        problems.append((("default",), message))
    if field.country and generic not in COUNTRY_FIELDS:
        problems.append((("country",), f"country names can only be read into {', '.join(sorted(COUNTRY_FIELDS))}"))
    if field.date is not None and generic not in DATE_FIELDS:
        problems.append((("date",), f"dates can only be read into {', '.join(sorted(DATE_FIELDS))}"))
    if field.uuid5 and generic not in ("id", "persons.id", "actors.id"):
        problems.append((("uuid5",), "uuid5 makes ids: use it on id"))
    if field.crosswalk is not None:
        crosswalk = taxonomy.crosswalks.get(field.crosswalk)
        if crosswalk is None:
            known = ", ".join(taxonomy.crosswalks)
            problems.append((("crosswalk",), f"no crosswalk {field.crosswalk!r} in the taxonomy; known: {known}"))
        elif VOCABULARY_FIELDS.get(generic) != crosswalk.vocabulary:
            problems.append(
                (("crosswalk",), f"the {crosswalk.code} crosswalk maps {crosswalk.vocabulary}, not {generic}")
            )
    if field.template is not None and not field.read_columns():
        problems.append((("template",), "name at least one column in braces, e.g. '{Title}'"))
    return problems


def values_table(values: Mapping[str, Value] | None) -> dict[str, Value]:
    return {normalize_value(key): value for key, value in (values or {}).items()}


def normalize_value(text: str) -> str:
    """How foreign values are compared with a values table: case-folded, spaces collapsed."""
    return " ".join(text.casefold().split())
