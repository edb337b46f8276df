"""State profiles against a plain count over the incidents themselves, and under the visibility rule: another focal
point's unshared incidents, and the actors only they name, never count. Both databases."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest

from tnrwatch.errors import ForbiddenError, NotFoundError
from tnrwatch.services import actors, incidents, profiles
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

OPERATOR = Principal.operator()
ANALYST = Principal(None, "ana", "analyst")
GERMAN = Principal(None, "olga", "officer", "DE")
ROLES = ("protective", "passive", "cooperating", "complicit", "unknown")
TACTICS = ("abduction", "family_threats", "interpol_red_notice", "spyware", "doxxing")
TARGETS = ("activist", "journalist", "dissident", "religious")


def made(node: Node, principal: Principal, rng: random.Random, actor_ids: list[str], **fixed: Any) -> dict[str, Any]:
    drawn: dict[str, Any] = {
        "origin_countries": rng.sample(["UZ", "RU", "CN"], rng.randint(1, 2)),
        "locations": [
            {"country": rng.choice(["TR", "DE", "FR"]), "geo_precision": "country"} for _ in range(rng.randint(1, 2))
        ],
        "tactics": rng.sample(TACTICS, rng.randint(1, 2)),
        "target_categories": rng.sample(TARGETS, rng.randint(1, 2)),
        "host_state_role": rng.choice(ROLES),
        "date_start": (dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700))).isoformat(),
        "actors": [{"id": a, "role": "perpetrator"} for a in rng.sample(actor_ids, rng.randint(0, 2))],
        "tlp": rng.choice(["clear", "green", "amber", "red"]),
    }
    data = incident_data(**(drawn | fixed))
    incidents.create_incident(node, principal, data)
    return data


def plain(node: Node, created: list[dict[str, Any]], code: str, names: dict[str, str]) -> dict[str, Any]:
    """The profile's numbers, counted per incident in Python."""
    mine = [d for d in created if code in d["origin_countries"]]
    family = node.taxonomy.family_of
    hosts: Counter[str] = Counter()
    targets: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    timeline: Counter[tuple[str, str]] = Counter()
    linked: Counter[str] = Counter()
    for d in mine:
        hosts.update({location["country"] for location in d["locations"]})
        targets.update(set(d["target_categories"]))
        roles[d["host_state_role"]] += 1
        timeline.update({(d["date_start"][:7], family(t)) for t in d["tactics"]})
        linked.update({names[a["id"]] for a in d["actors"]})
    return {
        "total": len(mine),
        "hosts": dict(hosts),
        "targets": dict(targets),
        "roles": dict(roles),
        "timeline": dict(timeline),
        "actors": dict(linked),
    }


def observed(profile: profiles.StateProfile) -> dict[str, Any]:
    return {
        "total": profile.total,
        "hosts": {v.value: v.count for v in profile.hosts},
        "targets": {v.value: v.count for v in profile.target_categories},
        "roles": {v.value: v.count for v in profile.cooperation.roles if v.count},
        "timeline": {(m.month, m.tactic_family): m.count for m in profile.timeline},
        "actors": {a.name: a.incidents for a in profile.actors},
    }


def test_a_profile_counts_what_a_plain_count_counts_and_hides_what_its_reader_may_not_read(node: Node) -> None:
    names = {}
    for country, name in (("UZ", "Uzbek security service"), ("RU", "Russian consulate"), ("CN", "Chinese police")):
        actor = actors.create_actor(
            node, OPERATOR, {"name": name, "actor_type": "intelligence_service", "country": country}
        )
        names[str(actor.id)] = name
    secret = actors.create_actor(node, OPERATOR, {"name": "Named by Germany only", "actor_type": "proxy"})
    names[str(secret.id)] = secret.name
    rng = random.Random(11)
    node_level = [made(node, OPERATOR, rng, list(names)[:3]) for _ in range(30)]
    # Germany's focal point's own incidents, not shared with the EU level: its officer reads them, nobody else does.
    german = [made(node, GERMAN, rng, list(names), origin_countries=["UZ"]) for _ in range(6)]
    below_red = [d for d in node_level if d["tlp"] != "red"]  # a focal point's officers read the node's own below red
    for code in ("UZ", "RU", "CN"):
        assert observed(profiles.state_profile(node, ANALYST, code)) == plain(node, node_level, code, names)
        assert observed(profiles.state_profile(node, GERMAN, code)) == plain(node, below_red + german, code, names)
    french = Principal(None, "fabien", "officer", "FR")
    assert observed(profiles.state_profile(node, french, "UZ")) == plain(node, below_red, "UZ", names)
    assert "Named by Germany only" not in {a.name for a in profiles.state_profile(node, ANALYST, "UZ").actors}
    assert "Named by Germany only" in {a.name for a in profiles.state_profile(node, GERMAN, "UZ").actors}
    assert {v.value: v.count for v in profiles.origin_states(node, ANALYST)} == {
        code: sum(code in d["origin_countries"] for d in node_level) for code in ("UZ", "RU", "CN")
    }
    recent = profiles.state_profile(node, ANALYST, "uz").recent
    assert [i.date_start for i in recent] == sorted(
        (dt.date.fromisoformat(d["date_start"]) for d in node_level if "UZ" in d["origin_countries"]), reverse=True
    )[: profiles.RECENT_INCIDENTS]


def test_the_cooperation_share_leaves_unknown_roles_out(node: Node) -> None:
    for role, count in (("cooperating", 3), ("complicit", 1), ("protective", 2), ("passive", 2), ("unknown", 5)):
        for _ in range(count):
            incidents.create_incident(node, OPERATOR, incident_data(tlp="green", host_state_role=role))
    cooperation = profiles.state_profile(node, ANALYST, "UZ").cooperation
    assert (cooperation.cooperated, cooperation.known, cooperation.unknown) == (4, 8, 5)
    assert cooperation.share == 0.5
    assert [role.value for role in cooperation.roles] == list(node.taxonomy.host_state_roles.codes)
    assert profiles.host_cooperation(node, []).share is None


def test_a_state_without_readable_incidents_has_an_empty_profile_and_a_code_that_is_no_state_none(node: Node) -> None:
    incidents.create_incident(node, GERMAN, incident_data(origin_countries=["BY"]))
    empty = profiles.state_profile(node, ANALYST, "BY")
    assert (empty.name, empty.total, empty.hosts, empty.actors, empty.recent) == ("Belarus", 0, [], [], [])
    assert profiles.state_profile(node, GERMAN, "BY").total == 1
    for code in ("ZZ", "Uzbekistan", "", "U1"):
        with pytest.raises(NotFoundError):
            profiles.state_profile(node, ANALYST, code)


def test_only_readers_of_incidents_see_profiles(node: Node) -> None:
    with pytest.raises(ForbiddenError):
        profiles.state_profile(node, Principal(None, "aud", "auditor"), "UZ")
