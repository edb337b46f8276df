"""Synthetic demo data: deterministic, valid, plausibly mixed, marked synthetic; seeded on SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from tnrwatch.domain.countries import is_country_code
from tnrwatch.domain.incident import INCIDENT_FIELDS, IncidentIn
from tnrwatch.domain.validation import validate
from tnrwatch.errors import ConflictError, ForbiddenError
from tnrwatch.services import demo
from tnrwatch.services import demo_data as data
from tnrwatch.services.demo_generator import DemoGenerator
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import Actor, AuditEntry, Incident
from tnrwatch.taxonomy import Taxonomy, default_taxonomy

PSEUDONYM = re.compile(r"Person P-[0-9A-HJKMNP-TV-Z]{7}")


def generate(seed: int, count: int) -> list[dict[str, Any]]:
    return list(DemoGenerator(seed).incidents(count))


@pytest.fixture(scope="module")
def sample() -> list[IncidentIn]:
    """2,000 generated incidents, each validated as every stored incident is."""
    taxonomy = default_taxonomy()
    return [validate(IncidentIn, raw, taxonomy) for raw in generate(11, 2000)]


def test_the_same_seed_gives_the_same_incidents_and_a_longer_run_extends_a_shorter_one() -> None:
    first = generate(5, 300)
    assert generate(5, 300) == first
    assert generate(5, 500)[:300] == first


def test_another_seed_gives_other_incidents() -> None:
    first, other = generate(5, 50), generate(6, 50)
    assert {i["id"] for i in first}.isdisjoint(i["id"] for i in other)
    assert [i["title"] for i in first] != [i["title"] for i in other]


def test_every_incident_is_valid_and_marked_synthetic(sample: list[IncidentIn]) -> None:
    assert all(incident.synthetic for incident in sample)
    assert {incident.provenance for incident in sample} == {"synthetic demo data (seed 11)"}
    assert len({incident.id for incident in sample}) == len(sample)


def test_digital_incidents_carry_indicators_that_can_match_nothing_real(sample: list[IncidentIn]) -> None:
    carrying = [incident for incident in sample if incident.indicators]
    digital = [incident for incident in sample if data.INDICATOR_TACTICS.intersection(incident.tactics)]
    assert {incident.id for incident in carrying} <= {incident.id for incident in digital}
    assert 0.4 <= len(carrying) / len(digital) <= 0.8
    found = [indicator for incident in carrying for indicator in incident.indicators]
    assert {indicator.kind for indicator in found} == {
        "domain-name",
        "url",
        "ipv4-addr",
        "ipv6-addr",
        "file-sha256",
        "email-addr",
    }
    reserved_domain = re.compile(r"(^|[.@/])[a-z]+-\d{3}\.(example\.(com|net|org)|[a-z-]+\.invalid)(/|$)")
    for indicator in found:
        assert indicator.note is not None
        assert indicator.note.startswith("Synthetic: ")
        if indicator.kind == "ipv4-addr":
            assert ipaddress.ip_address(indicator.value) in ipaddress.ip_network("192.0.2.0/24") or (
                ipaddress.ip_address(indicator.value) in ipaddress.ip_network("198.51.100.0/24")
            )
        elif indicator.kind == "ipv6-addr":
            assert ipaddress.ip_address(indicator.value) in ipaddress.ip_network("2001:db8::/32")
        elif indicator.kind != "file-sha256":
            assert reserved_domain.search(indicator.value), indicator.value


def test_text_names_nobody_real(sample: list[IncidentIn]) -> None:
    publishers = {publisher.name for publisher in data.PUBLISHERS}
    for incident in sample:
        assert len(PSEUDONYM.findall(incident.summary)) == 1
        assert not PSEUDONYM.search(incident.title)
        for source in incident.sources:
            assert source.publisher in publishers
            assert source.url is None or re.match(r"^https://example\.(org|com|net)/", source.url)


def test_dates_lie_between_2014_and_the_fixed_end(sample: list[IncidentIn]) -> None:
    assert min(incident.date_start for incident in sample) >= data.DATA_START
    assert all(incident.date_end is not None and incident.date_end <= data.DATA_END for incident in sample)
    years = Counter(incident.date_start.year for incident in sample)
    assert years[2024] > years[2014]  # growth over time


def test_precision_mixes_contain_every_level(sample: list[IncidentIn], taxonomy: Taxonomy) -> None:
    date_precisions = Counter(incident.date_precision for incident in sample)
    geo_precisions = Counter(location.geo_precision for incident in sample for location in incident.locations)
    assert set(date_precisions) == set(taxonomy.date_precision.codes)
    assert set(geo_precisions) == set(taxonomy.geo_precision.codes)
    assert date_precisions["day"] > len(sample) / 2


def test_verification_tlp_and_host_roles_are_mixed(sample: list[IncidentIn], taxonomy: Taxonomy) -> None:
    verification = Counter(incident.verification for incident in sample)
    assert set(verification) == set(taxonomy.verification_levels.codes)
    assert verification["reported"] + verification["corroborated"] > len(sample) / 2
    assert set(Counter(incident.tlp for incident in sample)) == set(taxonomy.tlp.codes)
    assert set(Counter(incident.host_state_role for incident in sample)) == set(taxonomy.host_state_roles.codes)


def test_locations_are_diaspora_weighted_with_a_healthy_eu_share(sample: list[IncidentIn]) -> None:
    hosts = Counter(incident.locations[0].country for incident in sample)
    eu_share = sum(n for country, n in hosts.items() if country in data.EU_MEMBER_STATES) / len(sample)
    assert 0.3 <= eu_share <= 0.55
    origins = Counter(incident.origin_countries[0] for incident in sample)
    assert origins.most_common(1)[0][0] == "CN"
    tajik_hosts = Counter(i.locations[0].country for i in sample if i.origin_countries == ["TJ"])
    assert tajik_hosts.most_common(1)[0][0] == "RU"


def test_obfuscated_second_and_mass_incidents_occur(sample: list[IncidentIn]) -> None:
    obfuscated = [incident for incident in sample if incident.locations[0].obfuscated]
    assert 0.01 <= len(obfuscated) / len(sample) <= 0.06
    for incident in obfuscated:  # the text never names anything finer than the country
        location = incident.locations[0]
        for detail in (location.place, location.admin1):
            if detail:
                assert f"living in {detail}," not in incident.summary
    assert any(len(incident.locations) == 2 for incident in sample)
    mass = [incident for incident in sample if incident.mass_event]
    assert mass
    assert all(incident.target_count is not None and incident.target_count >= 3 for incident in mass)
    assert any(len(incident.tactics) >= 3 for incident in sample)


def test_point_locations_lie_near_their_city(sample: list[IncidentIn]) -> None:
    cities = {(country, place): (lat, lon) for country, rows in data.CITIES.items() for place, _, lat, lon in rows}
    points = [loc for incident in sample for loc in incident.locations if loc.geo_precision == "point"]
    assert points
    for location in points:
        assert location.lat is not None
        assert location.lon is not None
        assert location.place is not None
        lat, lon = cities[(location.country, location.place)]
        assert abs(location.lat - lat) <= 0.05
        assert abs(location.lon - lon) <= 0.05


def test_the_tables_use_only_known_codes(taxonomy: Taxonomy) -> None:
    for origin in data.ORIGINS:
        assert origin.code in data.CITIES
        assert all(host in data.CITIES and host != origin.code for host, _ in origin.hosts)
        assert all(name in data.SCENARIOS for name, _ in origin.scenarios)
        assert all(category in taxonomy.target_categories for category, _ in origin.targets)
        assert all(flag in taxonomy.vulnerability_flags for c in origin.communities for flag in c.flags)
    for scenario in data.SCENARIOS.values():
        for tactic, _ in (*scenario.core, *scenario.extras):
            assert tactic in taxonomy.tactics
        assert set(scenario.texts) == {tactic for tactic, _ in scenario.core}
        assert all(actor_type in dict(data.ACTOR_TYPES) for actor_type, _ in scenario.actors)
        assert all(role in taxonomy.actor_roles for _, role in scenario.actors)
    assert all(code in taxonomy.actor_types for code, _ in data.ACTOR_TYPES)
    for country, rows in data.CITIES.items():
        assert is_country_code(country)
        for _place, _admin1, lat, lon in rows:
            assert -90 <= lat <= 90
            assert -180 <= lon <= 180


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return default_taxonomy()


def count(node: Node, model: Any = Incident) -> int:
    with node.store.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_stores_exactly_the_generated_incidents(node: Node, operator: Principal) -> None:
    advanced: list[int] = []
    result = demo.seed_demo(node, operator, 120, seed=3, batch_size=50, progress=advanced.append)
    assert (result.written, result.skipped, result.actors_created) == (
        120,
        False,
        len(demo.synthetic_actors(node.taxonomy)),
    )
    assert advanced == [50, 50, 20]
    expected = [validate(IncidentIn, raw, node.taxonomy) for raw in generate(3, 120)]
    with node.store.reading() as session:
        ids = list(session.scalars(select(Incident.id).order_by(Incident.id)))
        stored = load_incidents(session, ids, node.taxonomy)
    fields = set(INCIDENT_FIELDS) - {"taxonomy_version"}
    assert [s.model_dump(include=fields) for s in stored] == [e.model_dump(include=fields) for e in expected]
    with node.store.reading() as session:
        changes = session.execute(select(AuditEntry.action, AuditEntry.entity, AuditEntry.count, AuditEntry.note)).all()
    assert sorted(changes) == [
        ("seed", "actor", result.actors_created, "synthetic demo actors"),
        ("seed", "incident", 120, "synthetic demo data, seed 3"),
    ]


def test_seeding_a_seed_twice_is_refused_and_another_seed_reuses_the_actors(node: Node, operator: Principal) -> None:
    demo.seed_demo(node, operator, 10, seed=1)
    actors = count(node, Actor)
    with pytest.raises(ConflictError, match="seed 1"):
        demo.seed_demo(node, operator, 10, seed=1)
    assert count(node) == 10
    result = demo.seed_demo(node, operator, 10, seed=2)
    assert result.actors_created == 0
    assert (count(node), count(node, Actor)) == (20, actors)


def test_if_empty_does_nothing_when_incidents_exist(node: Node, operator: Principal) -> None:
    assert demo.seed_demo(node, operator, 5, seed=1, if_empty=True).written == 5
    skipped = demo.seed_demo(node, operator, 5, seed=2, if_empty=True)
    assert skipped.skipped
    assert skipped.written == 0
    assert count(node) == 5


def test_a_failure_keeps_whole_batches_only_and_records_them(
    node: Node, operator: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = demo.insert_incidents
    calls = []

    def fail_after_writing_the_second_batch(*args: Any) -> Any:
        calls.append(1)
        written = real_insert(*args)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return written

    monkeypatch.setattr(demo, "insert_incidents", fail_after_writing_the_second_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.seed_demo(node, operator, 30, seed=4, batch_size=10)
    assert count(node) == 10
    with node.store.reading() as session:
        notes = session.execute(select(AuditEntry.count, AuditEntry.note).where(AuditEntry.entity == "incident")).all()
    assert [tuple(row) for row in notes] == [(10, "synthetic demo data, seed 4 (interrupted after 10 of 30)")]


def test_only_writers_may_seed(node: Node) -> None:
    with pytest.raises(ForbiddenError):
        demo.seed_demo(node, Principal(account_id=None, username="aud", role="auditor"), 5, seed=1)
