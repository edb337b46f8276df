"""Mapping files: checked when loaded (errors name the key), applied to rows without ever raising."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.domain.incident import IncidentIn
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import InvalidInputError
from tnrwatch.interop.mapping import MappingEngine, parse_date
from tnrwatch.interop.mapping_spec import DateSpec, locate_mapping, parse_path, shipped_mappings
from tnrwatch.taxonomy import default_taxonomy

TAXONOMY = default_taxonomy()

BASE = """
mapping: 1
name: test
fields:
  title: Title
  date_start: {column: Date, date: {formats: ["%d.%m.%Y", "%m/%Y", "%Y"]}}
  origin_countries: {column: From, split: ",", country: true}
  locations[0].country: {column: Where, country: true}
  tactics:
    column: What
    split: "|"
    crosswalk: freedom_house
    values:
      Threatening: threats
      Both: [threats, stalking]
      Ignore me: null
"""


def engine(tmp_path: Path, text: str = BASE) -> MappingEngine:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return MappingEngine.load(path, TAXONOMY, label="mapping.yaml")


def problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(InvalidInputError) as caught:
        engine(tmp_path, text)
    return {".".join(str(part) for part in error.loc[1:]): error.msg for error in caught.value.errors}


def row(**cells: Any) -> dict[str, Any]:
    return {"Title": "A made-up incident", "Date": "2021", "From": "Russia", "Where": "Germany", "What": "Assault",
            **cells}  # fmt: skip


def test_a_row_becomes_raw_incident_input(tmp_path: Path) -> None:
    mapped = engine(tmp_path).apply(row(Date="05.03.2021", From="Russland, Belarus", What="Assault|Threatening"))
    assert mapped.errors == []
    assert mapped.raw == {
        "title": "A made-up incident",
        "date_start": "2021-03-05",
        "date_precision": "day",
        "origin_countries": ["RU", "BY"],
        "locations": [{"country": "DE"}],
        "tactics": ["assault", "threats"],
    }


@pytest.mark.parametrize(
    ("date", "start", "precision"), [("05.03.2021", "2021-03-05", "day"), ("03/2021", "2021-03-01", "month"),
                                     ("2021", "2021-01-01", "year"), ("2021-03-05", "2021-03-05", "day")]
)  # fmt: skip
def test_date_precision_follows_the_format(tmp_path: Path, date: str, start: str, precision: str) -> None:
    raw = engine(tmp_path).apply(row(Date=date)).raw
    assert raw is not None
    assert (raw["date_start"], raw["date_precision"]) == (start, precision)
    assert not isinstance(try_validate(IncidentIn, raw, TAXONOMY), list)


def test_crosswalk_in_reverse_and_values_tables(tmp_path: Path) -> None:
    mapping = engine(tmp_path)
    assert mapping.apply(row(What="Rendition")).raw["tactics"] == ["abduction"]  # type: ignore[index]
    assert mapping.apply(row(What="physical_intimidation")).raw["tactics"] == ["stalking"]  # type: ignore[index]
    assert mapping.apply(row(What="BOTH")).raw["tactics"] == ["threats", "stalking"]  # type: ignore[index]
    assert mapping.apply(row(What="ignore me|assault")).raw["tactics"] == ["assault"]  # type: ignore[index]


def test_unknown_values_are_errors_naming_column_and_value(tmp_path: Path) -> None:
    mapped = engine(tmp_path).apply(row(What="Poisoning", From="Atlantis", Date="someday"))
    messages = {error.loc: error.msg for error in mapped.errors}
    assert "column 'What': 'Poisoning' is not in the mapping's values" in messages[("tactics",)]
    assert "column 'From': 'Atlantis' is not a country name" in messages[("origin_countries",)]
    assert "column 'Date': 'someday' is not a date" in messages[("date_start",)]


def test_unmapped_keep_and_drop(tmp_path: Path) -> None:
    keep = BASE.replace("    crosswalk: freedom_house\n", "    unmapped: keep\n")
    assert engine(tmp_path, keep).apply(row(What="threats")).raw["tactics"] == ["threats"]  # type: ignore[index]
    drop = BASE.replace("    crosswalk: freedom_house\n", "    unmapped: drop\n")
    mapped = engine(tmp_path, drop).apply(row(What="Poisoning|Threatening"))
    assert mapped.errors == []
    assert mapped.raw["tactics"] == ["threats"]  # type: ignore[index]


def test_skip_rules(tmp_path: Path) -> None:
    text = (
        BASE
        + """
skip:
  - {column: Title, matches: "^Note"}
  - {column: Kind, not_equals: [Incident, Case]}
  - {column: Where, empty: true}
"""
    )
    mapping = engine(tmp_path, text)
    assert mapping.apply(row(Kind="incident")).raw is not None
    assert mapping.apply(row(Kind="Place")).raw is None
    assert mapping.apply(row(Kind="Case", Title="Note: made up")).raw is None
    assert mapping.apply(row(Kind="Case", Where=" ")).raw is None


def test_present_default_pick_template_and_constants(tmp_path: Path) -> None:
    fields = [
        "  locations[0].place: City",
        "  locations[0].lat: {column: Point, split: '|', pick: 0}",
        "  locations[0].lon: {column: Point, split: '|', pick: -1}",
        "  locations[0].geo_precision: {columns: [Point, City], present: {Point: point, City: place}, "
        "default: country}",
        "  summary: {template: 'Reported by {Who} on {Date}'}",
        "  sources[0].title: Source",
        "  id: {column: Ref, uuid5: true}",
    ]
    constants = "constants:\n  tlp: clear\n  locations[0].obfuscated: true\n  sources[0].reliability: C\n"
    mapping = engine(tmp_path, BASE + "\n".join(fields) + "\n" + constants)
    point = mapping.apply(row(City="Köln", Point="50.9|6.9", Who="a monitor", Source="", Ref="R-1")).raw
    assert point is not None
    assert point["locations"] == [{"country": "DE", "obfuscated": True, "place": "Köln", "lat": "50.9", "lon": "6.9",
                                   "geo_precision": "point"}]  # fmt: skip
    assert point["summary"] == "Reported by a monitor on 2021"
    assert point["tlp"] == "clear"
    assert "sources" not in point  # its only column is empty: the source is left out, constants and all
    assert point["id"] == mapping.apply(row(Ref="R-1")).raw["id"]  # type: ignore[index]
    place = mapping.apply(row(City="Köln", Source="A made-up report")).raw
    assert place is not None
    assert place["locations"][0]["geo_precision"] == "place"
    assert place["sources"] == [{"reliability": "C", "title": "A made-up report"}]
    nowhere = mapping.apply(row()).raw
    assert nowhere is not None
    assert nowhere["locations"][0]["geo_precision"] == "country"
    assert "summary" in nowhere  # the template has the date, so it is not empty


def test_date_ranges() -> None:
    spec = DateSpec(formats=["%Y-%m-%d"], range="~", part="end")
    assert parse_date("2023-11-20~2023-11-24", spec) == (parse_date("2023-11-24", DateSpec())[0], "day")  # type: ignore[index]
    assert parse_date("2023-11-20", spec) is None
    start = DateSpec(formats=["%Y-%m-%d"], range="~")
    assert parse_date("2023-11-20~2023-11-24", start)[0].isoformat() == "2023-11-20"  # type: ignore[index]


def test_json_records_with_nested_columns_and_lists(tmp_path: Path) -> None:
    text = BASE.replace('From, split: ",",', "origin.countries,").replace("Where,", "place.country,")
    mapped = engine(tmp_path, text).apply(
        {
            "Title": "x",
            "Date": 2021,
            "origin": {"countries": ["RU", "Belarus"]},
            "place": {"country": "DE"},
            "What": ["Assault", "Threatening"],
        }
    )
    assert mapped.errors == []
    assert mapped.raw is not None
    assert mapped.raw["origin_countries"] == ["RU", "BY"]
    assert mapped.raw["date_start"] == "2021-01-01"
    assert mapped.raw["tactics"] == ["assault", "threats"]


def test_missing_columns_are_reported_with_the_mapping_key(tmp_path: Path) -> None:
    found = dict(engine(tmp_path).column_errors(["Title", "Date", "From"]))
    assert "fields.locations[0].country" in found["Where"]
    assert "fields.tactics" in found["What"]


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (("  title: Title", "  titel: Title"), "fields.titel", "does not name a field"),
        (("  title: Title", "  locations[0].town: Town"), "fields.locations[0].town", "has no field 'town'"),
        (("  title: Title", "  locations.country: Town"), "fields.locations.country", "address one part"),
        (("      Threatening: threats", "      Threatening: threat"), "fields.tactics.values.Threatening",
         "unknown tactic code 'threat'"),
        (("crosswalk: freedom_house", "crosswalk: nowhere"), "fields.tactics.crosswalk", "no crosswalk 'nowhere'"),
        (("  title: Title", "  title: {column: Title, template: '{Title}'}"), "fields.title",
         "exactly one of column, columns or template"),
        (("  title: Title", "  title: {column: Title, country: true}"), "fields.title.country",
         "country names can only be read"),
        (("mapping: 1", "mapping: 2"), "mapping", "input should be 1"),
        (("      Ignore me: null", "      Ignore me: null\n      ignore  ME: threats"),
         "fields.tactics.values.ignore  ME", "same value as 'Ignore me'"),
    ],
)  # fmt: skip
def test_mapping_problems_name_the_key(tmp_path: Path, change: tuple[str, str], key: str, message: str) -> None:
    found = problems(tmp_path, BASE.replace(*change))
    assert key in found, found
    assert message in found[key]


def test_unquoted_no_is_caught(tmp_path: Path) -> None:
    text = BASE.replace("  locations[0].country: {column: Where, country: true}",
                        "  locations[0].country: {column: Where, values: {Norway: NO}}")  # fmt: skip
    assert "write codes as text" in problems(tmp_path, text)["fields.locations[0].country.values.Norway"]


def test_duplicate_keys_and_bad_yaml(tmp_path: Path) -> None:
    assert "found the key 'title' twice" in problems(tmp_path, BASE + "  title: Other\n")[""]
    assert "not valid YAML" in problems(tmp_path, "mapping: [1\n")[""]


def test_missing_mapping_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        MappingEngine.load(tmp_path / "nope.yaml", TAXONOMY)
    assert "freedom_house, uwazi" in caught.value.errors[0].msg


def test_paths() -> None:
    assert parse_path("locations[2].lat") == ("locations", 2, "lat")
    assert parse_path("tactics") == ("tactics",)
    with pytest.raises(ValueError, match="single field"):
        parse_path("tactics[0]")


def test_shipped_mappings_load() -> None:
    assert set(shipped_mappings()) == {"freedom_house", "uwazi"}
    for name in shipped_mappings():
        assert MappingEngine.load(locate_mapping(name), TAXONOMY).spec.name == name


CELLS = st.text(max_size=30) | st.sampled_from(
    ["", "2021", "2021-13-45", "a|b|c", "1~2", "Russia", "Physical::Assault"]
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_shipped_mappings_never_raise_on_any_cells(data: st.DataObject) -> None:
    for name in shipped_mappings():
        mapping = MappingEngine.load(locate_mapping(name), TAXONOMY)
        columns = {column for field in mapping.spec.fields.values() for column in field.read_columns()}
        columns |= {rule.column for rule in mapping.spec.skip}
        cells = {column: data.draw(CELLS, label=column) for column in sorted(columns)}
        mapped = mapping.apply(cells)
        if mapped.raw is not None:
            try_validate(IncidentIn, mapped.raw, TAXONOMY)  # errors are fine; exceptions are not
