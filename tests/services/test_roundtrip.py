"""Export then import gives the same incidents, in every format of our layout, on SQLite and PostgreSQL.

Hypothesis makes the incidents: any unicode in titles and summaries (formula-looking text, quotes, line breaks, tabs,
carriage returns, characters XML cannot hold), partial dates, locations with and without coordinates, sources,
technical indicators of every kind, and links to persons and actors created beforehand.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.domain.incident import INCIDENT_FIELDS, IncidentIn, IncidentOut
from tnrwatch.domain.validation import try_validate
from tnrwatch.services import actors, exports, imports, persons
from tnrwatch.services.incidents import stamp
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.incidents import insert_incidents, load_incidents, prepare_incident, resolve_links
from tnrwatch.store.models import Incident
from tnrwatch.taxonomy import default_taxonomy

TAXONOMY = default_taxonomy()
FORMULA_STARTS = ["=", "+", "-", "@", "'", "''", "=SUM(A1:A3)", '=HYPERLINK("http://x")', "#N/A", "_x000D_"]
COUNTRIES = ["DE", "FR", "TR", "CN", "RU", "IR", "XK", "HK", "RW", "US"]

line_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters=[chr(c) for c in range(32)] + ["\x7f"])
text_chars = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"] + ["\x7f"],
)


def with_formula(chars: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    plain = st.text(chars, max_size=max_size)
    return plain | st.tuples(st.sampled_from(FORMULA_STARTS), plain).map("".join)


lines = with_formula(line_chars, 40).filter(lambda text: bool(text.strip()))
short_lines = st.text(line_chars, min_size=1, max_size=20).filter(lambda text: bool(text.strip()))
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)


@st.composite
def locations(draw: st.DrawFn) -> dict[str, Any]:
    location: dict[str, Any] = {"country": draw(st.sampled_from(COUNTRIES)), "obfuscated": draw(st.booleans())}
    precision = draw(st.sampled_from(["point", "place", "admin1", "country"]))
    location["geo_precision"] = precision
    if precision == "place":
        location["place"] = draw(short_lines)
    if precision == "admin1":
        location["admin1"] = draw(short_lines)
    if precision == "point" or (precision == "place" and draw(st.booleans())):
        location["lat"], location["lon"] = draw(latitudes), draw(longitudes)
    return location


sources = st.fixed_dictionaries(
    {"title": lines},
    optional={
        "url": st.text("abcxyz019-._~/?=&%", max_size=20).map(lambda path: "https://example.org/" + path),
        "publisher": short_lines,
        "published_on": dates,
        "reliability": st.sampled_from(TAXONOMY.source_reliability.codes),
        "credibility": st.sampled_from(TAXONOMY.source_credibility.codes),
    },
)


domain_labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?", fullmatch=True)
path_chars = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"))  # anything a URL path can escape
local_parts = st.from_regex(r"[a-z0-9+_-]{1,10}(\.[a-z0-9+_-]{1,10})?", fullmatch=True)


@st.composite
def indicators(draw: st.DrawFn) -> dict[str, Any]:
    kind, value = draw(
        st.one_of(
            st.builds(lambda a: ("ipv4-addr", str(a)), st.ip_addresses(v=4)),
            st.builds(lambda a: ("ipv6-addr", str(a)), st.ip_addresses(v=6)),
            st.builds(lambda h: ("file-sha256", h.hex()), st.binary(min_size=32, max_size=32)),
            st.builds(lambda name: ("domain-name", f"{name}.example.com"), domain_labels),
            st.builds(lambda path: ("url", f"https://example.org/{path}"), with_formula(path_chars, 20)),
            st.builds(lambda local: ("email-addr", f"{local}@example.net"), local_parts),
        )
    )
    indicator: dict[str, Any] = {"kind": kind, "value": value}
    if draw(st.booleans()):
        indicator["note"] = draw(lines)
    if draw(st.booleans()):
        indicator["first_seen"] = draw(dates)
        if draw(st.booleans()):
            indicator["last_seen"] = indicator["first_seen"] + dt.timedelta(days=draw(st.integers(0, 400)))
    return indicator


@st.composite
def incidents(draw: st.DrawFn, person_ids: list[uuid.UUID], actor_ids: list[uuid.UUID]) -> IncidentIn:
    start = draw(dates)
    raw: dict[str, Any] = {
        "title": draw(lines),
        "summary": draw(with_formula(text_chars, 200)),
        "date_start": start,
        "date_precision": draw(st.sampled_from(TAXONOMY.date_precision.codes)),
        "locations": draw(st.lists(locations(), min_size=1, max_size=3)),
        "origin_countries": draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3)),
        "tactics": draw(st.lists(st.sampled_from(TAXONOMY.tactics.codes), min_size=1, max_size=4)),
        "target_categories": draw(st.lists(st.sampled_from(TAXONOMY.target_categories.codes), max_size=3)),
        "vulnerability_flags": draw(st.lists(st.sampled_from(TAXONOMY.vulnerability_flags.codes), max_size=2)),
        "host_state_role": draw(st.sampled_from(TAXONOMY.host_state_roles.codes)),
        "target_count": draw(st.none() | st.integers(min_value=1, max_value=1000)),
        "verification": draw(st.sampled_from(TAXONOMY.verification_levels.codes)),
        "tlp": draw(st.sampled_from(TAXONOMY.tlp.codes)),
        "sources": draw(st.lists(sources, max_size=2)),
        "persons": [{"id": pid, "role": draw(st.sampled_from(TAXONOMY.person_roles.codes))}
                    for pid in draw(st.lists(st.sampled_from(person_ids), max_size=2, unique=True))],
        "actors": [{"id": aid, "role": draw(st.sampled_from(TAXONOMY.actor_roles.codes))}
                   for aid in draw(st.lists(st.sampled_from(actor_ids), max_size=2, unique=True))],
        "indicators": draw(st.lists(indicators(), max_size=3)),
        "provenance": draw(st.none() | lines),
        "synthetic": draw(st.booleans()),
    }  # fmt: skip
    if draw(st.booleans()):
        raw["date_end"] = start + dt.timedelta(days=draw(st.integers(min_value=400, max_value=800)))
    if draw(st.booleans()):
        raw["id"] = draw(st.uuids())
    incident = try_validate(IncidentIn, raw, TAXONOMY)
    assume(not isinstance(incident, list))
    assert isinstance(incident, IncidentIn)
    return incident


def stored(node: Node) -> dict[uuid.UUID, dict[str, Any]]:
    with node.store.reading() as session:
        ids = list(session.scalars(select(Incident.id).order_by(Incident.id)))
        loaded: list[IncidentOut] = load_incidents(session, ids, node.taxonomy)
    return {incident.id: incident.model_dump(include=set(INCIDENT_FIELDS)) for incident in loaded}


def clear(node: Node) -> None:
    with node.store.writing() as session:
        session.execute(delete(Incident))


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_then_import_gives_the_same_incidents(node: Node, operator: Principal, tmp_path: Path, fmt: str) -> None:
    person_ids = [persons.create_person(node, operator, {}).id for _ in range(3)]
    agency = {"actor_type": "intelligence_service"}
    actor_ids = [actors.create_actor(node, operator, {**agency, "name": f"Made-up agency {n}"}).id for n in range(3)]
    path = tmp_path / f"export.{fmt}"

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(st.lists(incidents(person_ids, actor_ids), min_size=1, max_size=4, unique_by=lambda i: i.id or uuid.uuid4()))
    def round_trip(batch: list[IncidentIn]) -> None:
        clear(node)
        with node.store.writing() as session:
            links = resolve_links(session, [prepare_incident(incident) for incident in batch])
            insert_incidents(session, batch, stamp(node, operator), links)
        before = stored(node)
        with path.open("wb") as sink:
            exports.export_incidents(node, operator, IncidentFilter(), fmt, sink)
        clear(node)
        result = imports.import_file(node, operator, imports.ImportRequest(path=path))
        assert result.imported == len(batch)
        assert stored(node) == before

    round_trip()
