"""Duplicate scoring: properties that hold for any two incidents (Hypothesis), and the cases an officer meets."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.domain import duplicates
from tnrwatch.domain.duplicates import THRESHOLD, WEIGHTS, Profile, candidates, profile_of, reasons, score
from tnrwatch.domain.incident import IncidentIn
from tnrwatch.domain.validation import validate
from tnrwatch.taxonomy import default_taxonomy

from ..factories import incident_data

PERSONS = [uuid.UUID(int=n) for n in range(1, 7)]
COUNTRIES = ["DE", "FR", "NL", "TR"]
PLACES = ["berlin", "paris", "hamburg"]
TACTICS = ["assault", "abduction", "threats", "surveillance", "red_notice"]


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    start = draw(st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2025, 12, 31)))
    length = draw(st.integers(min_value=0, max_value=400))
    hosts = draw(st.frozensets(st.sampled_from(COUNTRIES), min_size=1, max_size=2))
    places = draw(st.frozensets(st.tuples(st.sampled_from(sorted(hosts)), st.sampled_from(PLACES)), max_size=2))
    return Profile(
        id=draw(st.uuids()),
        date_start=start,
        date_end=start + dt.timedelta(days=length),
        date_precision=draw(st.sampled_from(sorted(duplicates.SLACK_DAYS))),
        persons=draw(st.frozensets(st.sampled_from(PERSONS), max_size=3)),
        hosts=hosts,
        places=places,
        origins=draw(st.frozensets(st.sampled_from(["IR", "CN", "RU", "TR"]), min_size=1, max_size=2)),
        tactics=draw(st.frozensets(st.sampled_from(TACTICS), min_size=1, max_size=3)),
    )


@settings(max_examples=300)
@given(profiles(), profiles())
def test_the_score_is_bounded_symmetric_and_the_sum_of_its_reasons(a: Profile, b: Profile) -> None:
    value = score(a, b)
    assert 0 <= value <= 1
    assert value == score(b, a)
    assert reasons(a, b) == reasons(b, a)
    assert value == min(1.0, round(sum(reason.weight for reason in reasons(a, b)), 3))
    assert all(reason.weight > 0 for reason in reasons(a, b))


@settings(max_examples=300)
@given(profiles(), profiles())
def test_an_incident_is_never_more_like_another_than_like_itself(a: Profile, b: Profile) -> None:
    assert score(a, a) >= score(a, b)


@settings(max_examples=300)
@given(profiles(), profiles())
def test_each_reason_names_only_what_both_have(a: Profile, b: Profile) -> None:
    in_both = {
        "person": {str(p) for p in a.persons & b.persons},
        "place": {f"{c}/{p}" for c, p in a.places & b.places},
        "host": a.hosts & b.hosts,
        "origin": a.origins & b.origins,
        "tactic": a.tactics & b.tactics,
    }
    for reason in reasons(a, b):
        if reason.kind == "dates":
            assert reason.days_apart == duplicates.days_apart(a, b) <= duplicates.slack(a, b)
            continue
        assert reason.shared
        assert set(reason.shared) <= in_both[reason.kind]


@settings(max_examples=200)
@given(profiles(), profiles(), st.sampled_from(PERSONS))
def test_a_shared_person_alone_makes_a_candidate_and_never_lowers_the_score(
    a: Profile, b: Profile, person: uuid.UUID
) -> None:
    with_person = (replace(a, persons=a.persons | {person}), replace(b, persons=b.persons | {person}))
    assert score(*with_person) >= score(a, b)
    assert score(*with_person) >= THRESHOLD
    assert [c.incident_id for c in candidates(with_person[0], [with_person[1]])] == [b.id]


@settings(max_examples=200)
@given(profiles(), profiles())
def test_coarser_dates_never_make_two_incidents_less_alike(a: Profile, b: Profile) -> None:
    coarse = replace(a, date_precision="estimate")
    assert score(coarse, b) >= score(replace(a, date_precision="day"), replace(b, date_precision="day"))


@settings(max_examples=200)
@given(profiles(), st.lists(profiles(), max_size=12, unique_by=lambda p: p.id), st.integers(min_value=1, max_value=5))
def test_candidates_are_above_the_threshold_best_first_and_never_the_incident_itself(
    new: Profile, stored: list[Profile], limit: int
) -> None:
    found = candidates(new, [*stored, new], limit=limit)
    assert len(found) <= limit
    assert all(c.score >= THRESHOLD for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert new.id not in {c.incident_id for c in found}
    expected = {p.id for p in stored if p.id != new.id and score(new, p) >= THRESHOLD}
    assert {c.incident_id for c in found} <= expected
    assert len(found) == min(limit, len(expected))


@given(profiles(), profiles())
def test_nothing_in_common_and_far_apart_is_no_candidate(a: Profile, b: Profile) -> None:
    far = replace(
        b,
        date_start=a.date_end + dt.timedelta(days=duplicates.MAX_SLACK_DAYS + 1),
        date_end=a.date_end + dt.timedelta(days=duplicates.MAX_SLACK_DAYS + 30),
        persons=frozenset(),
        hosts=frozenset({"XK"}),
        places=frozenset(),
        origins=frozenset({"KP"}),
        tactics=frozenset({"spyware"}),
    )
    assert score(a, far) == 0
    assert reasons(a, far) == ()


def _profile(**overrides: object) -> Profile:
    return profile_of(validate(IncidentIn, incident_data(**overrides), default_taxonomy()), uuid.uuid4())


def test_the_same_place_counts_more_than_the_same_country_and_case_does_not_matter() -> None:
    here = _profile(locations=[{"country": "TR", "geo_precision": "place", "place": "Istanbul"}])
    same = _profile(locations=[{"country": "TR", "geo_precision": "place", "place": "  istanbul "}])
    elsewhere = _profile(locations=[{"country": "TR", "geo_precision": "place", "place": "Ankara"}])
    assert [r.kind for r in reasons(here, same)] == ["dates", "place", "origin", "tactic"]
    assert [r.kind for r in reasons(here, elsewhere)] == ["dates", "host", "origin", "tactic"]
    assert round(score(here, same) - score(here, elsewhere), 3) == round(WEIGHTS["place"] - WEIGHTS["host"], 3)


def test_dates_are_near_by_their_precision() -> None:
    late_march = _profile(date_start="2021-03-28", date_precision="day")
    a_week_later = _profile(date_start="2021-04-04", date_precision="day")
    april = _profile(date_start="2021-04-10", date_precision="month")  # widened to 1-30 April
    assert "dates" not in {r.kind for r in reasons(late_march, a_week_later)}  # 7 days apart, both exact: not near
    near = {r.kind: r for r in reasons(late_march, april)}["dates"]
    assert near.days_apart == 4  # 28 March to 1 April: within a month's slack
    assert 0 < near.weight < WEIGHTS["dates"]
    assert {r.kind: r for r in reasons(late_march, late_march)}["dates"].weight == WEIGHTS["dates"]
