"""Notices and registry entries: partial dates and Interpol references (Hypothesis), Interpol's own field names and
shapes accepted without a mapping, and errors that name the field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tnrwatch.domain.notice import (
    NoticeIn,
    PartialDate,
    ProtectedPersonIn,
    parse_interpol_reference,
    parse_partial_date,
)

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"


@given(st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date.today()), st.sampled_from(["-", "/", "."]))
def test_a_full_date_reads_back_whatever_the_separator(day: dt.date, separator: str) -> None:
    text = day.strftime(f"%Y{separator}%m{separator}%d")
    assert parse_partial_date(text) == (day.year, day.month, day.day)
    parsed = PartialDate.model_validate(text)
    assert parsed.precision == "day"
    assert parsed.earliest() == day
    assert PartialDate.model_validate(parsed.model_dump()) == parsed  # "YYYY-MM-DD" round trip


@given(st.integers(1880, dt.date.today().year - 1), st.one_of(st.none(), st.integers(1, 12)))
def test_year_and_month_precision(year: int, month: int | None) -> None:
    text = f"{year}" if month is None else f"{year}/{month:02d}"
    parsed = PartialDate.model_validate(text)
    assert parsed.precision == ("year" if month is None else "month")
    assert parsed.model_dump() == (f"{year:04d}" if month is None else f"{year:04d}-{month:02d}")


@given(st.text(max_size=12))
def test_the_date_parser_never_accepts_what_it_cannot_read_back(text: str) -> None:
    try:
        year, month, day = parse_partial_date(text)
    except ValueError as exc:
        message = str(exc)
        assert message  # a message, never an empty error
        return
    parts = [f"{year:04d}"] + ([f"{month:02d}"] if month else []) + ([f"{day:02d}"] if day else [])
    assert PartialDate.model_validate("-".join(parts)).model_dump() == "-".join(parts)


@pytest.mark.parametrize(
    "text", ["1980-13", "1980-02-30", "1879", "80-04-02", "1980-04/02", "2099-01-01", "April 1980", ""]
)
def test_bad_dates_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises((ValueError, ValidationError)):
        PartialDate.model_validate(text)


@given(st.integers(1946, dt.date.today().year), st.integers(0, 99999), st.sampled_from(["/", "-"]))
def test_interpol_references_normalise_to_a_slash(year: int, number: int, separator: str) -> None:
    assert parse_interpol_reference(f" {year}{separator}{number:05d} ") == f"{year}/{number:05d}"


@given(st.text(max_size=14))
def test_reference_parser_accepts_only_its_shape(text: str) -> None:
    try:
        reference = parse_interpol_reference(text)
    except ValueError:
        return
    assert len(reference) == 10
    assert reference[4] == "/"
    assert reference.replace("/", "").isdigit()


@pytest.mark.parametrize("text", ["2024/1234", "2024/123456", "1900/12345", "24/12345", "2024 12345"])
def test_bad_references_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"Interpol reference|year"):
        parse_interpol_reference(text)


def test_an_interpol_notice_validates_as_interpol_publishes_it() -> None:
    document = json.loads((EXAMPLES / "red_notices.json").read_text())
    raw = document["_embedded"]["notices"][0]
    notice = NoticeIn.model_validate(raw)
    assert notice.notice_type == "red_notice"  # from Interpol's address of the notice
    assert notice.interpol_reference == "2025/31842"  # Interpol's entity_id
    assert notice.requesting_state == "UZ"  # from the warrant
    assert (notice.sex, notice.country_of_birth) == ("F", "UZ")  # sex_id, country_of_birth_id
    assert notice.date_of_birth is not None
    assert notice.date_of_birth.model_dump() == "1986-03-14"
    assert notice.arrest_warrants[0].charge.startswith("Extremism")
    subject = notice.subject()
    assert (subject.forename, subject.name) == ("DILNOZA", "RAKHIMOVA")


def test_errors_name_every_bad_field() -> None:
    with pytest.raises(ValidationError) as caught:
        NoticeIn.model_validate(
            {
                "notice_type": "purple_notice",
                "entity_id": "2024-1",
                "requesting_state": "XX",
                "name": "",
                "date_of_birth": "1980/13",
                "sex_id": "Q",
                "nationalities": ["ZZ"],
                "arrest_warrants": [{"issuing_country_id": "UZ", "charge": ""}],
                "colour_of_hat": "red",
            }
        )
    locations = {error["loc"] for error in caught.value.errors()}
    assert {
        ("notice_type",),
        ("entity_id",),  # named as the input spelt it (Interpol's name here)
        ("requesting_state",),
        ("name",),
        ("date_of_birth",),
        ("sex_id",),
        ("nationalities", 0),
        ("arrest_warrants", 0, "charge"),
        ("colour_of_hat",),
    } <= locations


def test_dates_must_follow_each_other() -> None:
    with pytest.raises(ValidationError, match="received must not be before issued"):
        NoticeIn.model_validate(
            {
                "notice_type": "diffusion",
                "requesting_state": "TJ",
                "name": "X",
                "issued": "2025-02-01",
                "received": "2025-01-01",
            }
        )


def test_other_names_take_a_script_hint_or_plain_text() -> None:
    entry = ProtectedPersonIn.model_validate(
        {
            "full_name": "Дильноза Рахимова",
            "other_names": ["Dilnoza", {"name": "دلنوزا", "script": "Arab"}],
            "category": "hrd",
        }
    )
    assert [(name.name, name.script) for name in entry.other_names] == [("Dilnoza", None), ("دلنوزا", "Arab")]
    with pytest.raises(ValidationError) as caught:
        ProtectedPersonIn.model_validate(
            {"full_name": "A", "other_names": [{"name": "B", "script": "cyrillic"}], "category": "spy"}
        )
    assert {("other_names", 0, "script"), ("category",)} <= {error["loc"] for error in caught.value.errors()}
