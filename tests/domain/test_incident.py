"""The incident's validation rules: every problem reported with its location, canonical forms for equal incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.domain.incident import IncidentIn
from tnrwatch.domain.validation import try_validate, validate
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.taxonomy import default_taxonomy

from ..factories import incident_data

TAXONOMY = default_taxonomy()


def errors_of(**overrides: Any) -> dict[str, str]:
    result = try_validate(IncidentIn, incident_data(**overrides), TAXONOMY)
    assert isinstance(result, list), "expected the input to be refused"
    return {".".join(str(p) for p in error.loc): error.msg for error in result}


def test_a_valid_incident_is_accepted_and_canonical() -> None:
    incident = validate(
        IncidentIn,
        incident_data(tactics=["abduction", "assault", "abduction"], origin_countries=["uz", "TJ"]),
        TAXONOMY,
    )
    assert incident.tactics == ["assault", "abduction"]  # taxonomy order, once each
    assert incident.origin_countries == ["TJ", "UZ"]
    assert incident.date_end == incident.date_start


def test_unknown_codes_name_the_valid_ones() -> None:
    errors = errors_of(tactics=["abduction", "kidnap"], verification="rumour", tlp="purple")
    assert "unknown tactic code 'kidnap'" in errors["tactics.1"]
    assert "assassination" in errors["tactics.1"]
    assert "valid codes: reported, corroborated, verified, disputed, refuted" in errors["verification"]
    assert "unknown TLP marking code 'purple'" in errors["tlp"]


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of(
        title="", origin_countries=["XX"], date_start="2021-02-30", locations=[{"country": "DE", "lat": 1}]
    )
    assert set(errors) >= {"title", "origin_countries.0", "date_start", "locations.0"}
    assert "ISO 3166-1" in errors["origin_countries.0"]


@pytest.mark.parametrize(
    ("precision", "given_date", "start", "end"),
    [
        ("month", "2021-03-15", "2021-03-01", "2021-03-31"),
        ("month", "2024-02-10", "2024-02-01", "2024-02-29"),
        ("year", "2019-06-01", "2019-01-01", "2019-12-31"),
        ("estimate", "2019-06-01", "2019-06-01", "2019-06-01"),
    ],
)
def test_partial_dates_widen_to_their_range(precision: str, given_date: str, start: str, end: str) -> None:
    incident = validate(IncidentIn, incident_data(date_start=given_date, date_precision=precision), TAXONOMY)
    assert (incident.date_start.isoformat(), incident.date_end and incident.date_end.isoformat()) == (start, end)


def test_date_end_before_start_is_refused() -> None:
    assert "must be on or after date_start" in errors_of(date_end="2021-03-01")["date_end"]


def test_mass_event_follows_the_target_count() -> None:
    assert validate(IncidentIn, incident_data(target_count=4), TAXONOMY).mass_event is True
    assert validate(IncidentIn, incident_data(target_count=2), TAXONOMY).mass_event is False
    assert "must be true when target_count is 5" in errors_of(target_count=5, mass_event=False)["mass_event"]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({"country": "DE", "geo_precision": "point"}, "needs lat and lon"),
        ({"country": "DE", "geo_precision": "country", "lat": 52.5, "lon": 13.4}, "only kept for geo_precision"),
        ({"country": "DE", "geo_precision": "place"}, "needs a place name"),
        ({"country": "DE", "geo_precision": "admin1"}, "needs an admin1"),
        ({"country": "DE", "geo_precision": "point", "lat": 52.5}, "both lat and lon"),
        ({"country": "DE", "geo_precision": "point", "lat": 95, "lon": 13}, "less than or equal to 90"),
    ],
)
def test_locations_are_only_as_precise_as_they_say(location: dict[str, Any], message: str) -> None:
    errors = errors_of(locations=[location])
    assert any(message in text for where, text in errors.items() if where.startswith("locations.0")), errors


def test_control_characters_are_refused_in_titles() -> None:
    assert "one line" in errors_of(title="two\nlines")["title"]
    assert "control characters" in errors_of(summary="bell \x07")["summary"]


def test_unknown_fields_are_refused() -> None:
    assert errors_of(severity="high") == {"severity": "unknown field"}


def test_invalid_input_lists_field_errors() -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate(IncidentIn, {"title": "x"}, TAXONOMY, what="incident")
    assert all(isinstance(error, FieldError) for error in caught.value.errors)
    assert "the incident is invalid" in caught.value.message


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(list(IncidentIn.model_fields)), st.none() | st.text() | st.integers() | st.lists(st.text())
    )
)
def test_arbitrary_input_gives_errors_not_crashes(raw: dict[str, Any]) -> None:
    result = try_validate(IncidentIn, raw, TAXONOMY)
    assert isinstance(result, IncidentIn | list)


def test_dates_before_1900_are_refused() -> None:
    assert "1900" in errors_of(date_start=dt.date(1899, 12, 31).isoformat())["date_start"]


SPYWARE_INDICATORS = [
    {"kind": "domain-name", "value": "Update-Check.Example.COM"},
    {"kind": "url", "value": "hxxps://update-check.example[.]com/a", "note": "Link sent by text message"},
    {"kind": "ipv4-addr", "value": "192.0.2.10", "first_seen": "2021-03-01", "last_seen": "2021-03-20"},
    {"kind": "ipv6-addr", "value": "2001:DB8::A"},
    {"kind": "file-sha256", "value": "AB" * 32},
    {"kind": "email-addr", "value": "Support@Example.org"},
]


def test_indicators_are_kept_in_order_in_canonical_form_once_each() -> None:
    incident = validate(
        IncidentIn,
        incident_data(
            tactics=["spyware"],
            indicators=[*SPYWARE_INDICATORS, {"kind": "domain-name", "value": "update-check.example.com."}],
        ),
        TAXONOMY,
    )
    assert [(i.kind, i.value) for i in incident.indicators] == [
        ("domain-name", "update-check.example.com"),
        ("url", "https://update-check.example.com/a"),
        ("ipv4-addr", "192.0.2.10"),
        ("ipv6-addr", "2001:db8::a"),
        ("file-sha256", "ab" * 32),
        ("email-addr", "support@example.org"),
    ]
    assert incident.indicators[1].note == "Link sent by text message"
    assert str(incident.indicators[2].last_seen) == "2021-03-20"


def test_a_bad_indicator_is_named_by_its_position_and_field() -> None:
    errors = errors_of(
        indicators=[
            {"kind": "domain-name", "value": "fine.example"},
            {"kind": "phone-number", "value": "+44 20 7946 0000"},
            {"kind": "url", "value": "javascript:alert(1)"},
            {"kind": "ipv4-addr", "value": "192.0.2.300"},
            {"kind": "file-sha256", "value": "abc", "first_seen": "2021-05-02", "last_seen": "2021-05-01"},
            {"kind": "email-addr", "value": "someone@example.com", "note": "two\nlines"},
            {"value": "missing.kind.example"},
        ]
    )
    assert "'domain-name'" in errors["indicators.1.kind"]
    assert "'email-addr'" in errors["indicators.1.kind"]
    assert "http:// or https://" in errors["indicators.2.value"]
    assert "one IPv4 address" in errors["indicators.3.value"]
    assert "64 hexadecimal digits" in errors["indicators.4.value"]
    assert "on or after first_seen (2021-05-02)" in errors["indicators.4.last_seen"]
    assert "one line" in errors["indicators.5.note"]
    assert errors["indicators.6.kind"] == "required"
    assert not any(key.startswith("indicators.0") for key in errors)


def test_at_most_200_indicators() -> None:
    many = [{"kind": "ipv4-addr", "value": f"198.51.100.{n % 256}"} for n in range(201)]
    assert "at most 200" in errors_of(indicators=many)["indicators"]
