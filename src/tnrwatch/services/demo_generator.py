"""The synthetic incident generator behind `tnrwatch demo seed`: pure, deterministic, no I/O.

The same seed and count give the same incidents, uuids included (timestamps aside), and a smaller count gives a
prefix of a larger one: incident i depends only on the seed and the i-1 incidents before it. The tables and the reasons
for their weights are in `demo_data.py`; the mixes drawn here are:

- dates: 2014-01-01 to `DATA_END`, by month with yearly growth, seasonality and per-origin waves (`demo_data`), plus
  about 5 percent of incidents in bursts (a mass deportation, a wave of detentions: one origin, host and scenario
  within a few weeks, often a mass event), and `demo_data.SURGE`'s share (0.4 percent) in one sustained escalation
  over the last three months (Uzbekistan -> Türkiye), so that the monitoring page has a real signal to show.
- date precision: day 72 percent (one in ten spans several days), month 16, year 7, estimate 5 (a range of one to
  eighteen months): most coded incidents rest on dated reports, older or second-hand ones less so.
- geo precision: point 25 percent (city coordinates jittered by up to ~4 km), place 45 (city centre), admin1 15,
  country 15; about 3 percent of locations are obfuscated for safety, and then no text names anything finer than the
  country. About one incident in seven has a second location (relatives in the origin state, where a
  returned person is held, or a transit state).
- targets: one category from the origin's mix, a second one in 30 percent; mass events (three or more targets) in about
  7 percent outside bursts and half of burst incidents; the target count is unknown in 15 percent.
- verification: recent incidents mostly reported (50) or corroborated (32), verified 10, disputed 6, refuted 2; those
  more than three years old have had time to be checked (30/40/20/7/3). Corroborated or verified ones have two sources
  or more.
- TLP: clear 15, green 30, amber 38, amber+strict 12, red 5; obfuscated locations at least amber.
- sources: 0-4 per incident (mostly 1-2), graded by publisher (court records A/B, social media posts D-F), credibility
  skewed to 2-3.
- actors: about 40 percent of incidents name one or two synthetic actors of the origin state, by scenario.
- indicators: 60 percent of spyware and account-compromise incidents carry one to four synthetic technical indicators
  (reserved domains and documentation addresses, digests of fixed strings: `demo_data.INDICATOR_*`), drawn from a
  stream of their own seeded by the incident's id, so that adding them changed no other draw.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tnrwatch.domain.countries import country_name
from tnrwatch.domain.incident import MASS_EVENT_TARGETS
from tnrwatch.services import demo_data as data

BURST_COUNT = 40
BURST_SHARE = 0.05
# A fixed namespace, so that the synthetic actors get the same uuids on every node and for every seed.
ACTOR_NAMESPACE = uuid.UUID("5d1c1f3e-8a53-4a4e-9a43-0c6f2f1f7d10")
_MONTH_NAMES = tuple(calendar.month_name)
_PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U

T = TypeVar("T")


class _Weighted(Generic[T]):
    """Draws from fixed weights in O(log n), faster than `random.choices` for one draw at a time."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        if not pairs or any(weight < 0 for _, weight in pairs):
            raise ValueError("weights must be non-empty and non-negative")
        self.items = tuple(item for item, _ in pairs)
        self.cumulative: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            self.cumulative.append(total)
        self.total = total
        self.last = len(self.items) - 1

    def draw(self, rng: random.Random) -> T:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self.items[min(index, self.last)]


@dataclass(frozen=True)
class _Burst:
    """A wave of incidents: one origin, host and scenario within a few weeks (e.g. a mass deportation)."""

    draws: _OriginDraws
    host: str
    scenario: str
    start: dt.date
    days: int


@dataclass(frozen=True)
class _OriginDraws:
    origin: data.Origin
    hosts: _Weighted[str]
    scenarios: _Weighted[str]
    targets: _Weighted[str]
    communities: _Weighted[data.Community]
    months: _Weighted[tuple[int, int, int]]  # (year, month, days in the month)


def _text_name(code: str) -> str:
    return data.COUNTRY_TEXT.get(code) or country_name(code)


def _months() -> list[tuple[int, int, int]]:
    """(year, month, days in the month) for every month from DATA_START to DATA_END."""
    months = []
    year, month = data.DATA_START.year, data.DATA_START.month
    while (year, month) <= (data.DATA_END.year, data.DATA_END.month):
        months.append((year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class DemoGenerator:
    """Makes synthetic incidents as raw dicts for `IncidentIn`, one after the other from one seeded stream."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311  reproducible on purpose; nothing here is secret
        self.provenance = f"synthetic demo data (seed {seed})"
        months = _months()
        self.origins = _Weighted([(self._origin_draws(origin, months), origin.weight) for origin in data.ORIGINS])
        self.scenario_core = {name: _Weighted(s.core) for name, s in data.SCENARIOS.items()}
        self.host_roles = {key: _Weighted(pairs) for key, pairs in data.HOST_ROLE_WEIGHTS.items()}
        self.publishers = _Weighted([(p, p.weight) for p in data.PUBLISHERS])
        self.reliability = {p.name: _Weighted(p.reliability) for p in data.PUBLISHERS}
        self.credibility = _Weighted(data.CREDIBILITY_WEIGHTS)
        self.source_counts = _Weighted([(int(n), w) for n, w in data.SOURCE_COUNT_WEIGHTS])
        self.transit = _Weighted(data.TRANSIT_STATES)
        self.cities = {
            code: _Weighted([(city, 1.0 / (rank + 1)) for rank, city in enumerate(cities)])  # capitals first
            for code, cities in data.CITIES.items()
        }
        self.date_precision = _Weighted([("day", 72), ("month", 16), ("year", 7), ("estimate", 5)])
        self.geo_precision = _Weighted([("point", 25), ("place", 45), ("admin1", 15), ("country", 15)])
        self.verification_recent = _Weighted(
            [("reported", 50), ("corroborated", 32), ("verified", 10), ("disputed", 6), ("refuted", 2)]
        )
        self.verification_older = _Weighted(
            [("reported", 30), ("corroborated", 40), ("verified", 20), ("disputed", 7), ("refuted", 3)]
        )
        self.tlp = _Weighted([("clear", 15), ("green", 30), ("amber", 38), ("amber+strict", 12), ("red", 5)])
        self.tlp_sensitive = _Weighted([("amber", 50), ("amber+strict", 35), ("red", 15)])
        self.all_tactics = tuple(
            sorted({core for s in data.SCENARIOS.values() for core, _ in s.core})
        )  # for the odd extra tactic that no scenario foresees
        self.bursts = [self._burst() for _ in range(BURST_COUNT)]
        surge = data.SURGE
        self.surge_draws = next(d for d in self.origins.items if d.origin.code == surge.origin)
        self.surge_scenarios = _Weighted(surge.scenarios)
        self.surge_months = _Weighted(
            [((year, month, calendar.monthrange(year, month)[1]), w) for year, month, w in surge.months]
        )
        self.older_than = data.DATA_END - dt.timedelta(days=3 * 365)

    @staticmethod
    def _origin_draws(origin: data.Origin, months: list[tuple[int, int, int]]) -> _OriginDraws:
        hosts = [
            (code, w * (data.EU_REPORTING_BOOST if code in data.EU_MEMBER_STATES else 1.0)) for code, w in origin.hosts
        ]
        years = dict(origin.years)
        month_weights = [
            ((year, month, days), data.YEAR_WEIGHTS[year] * years.get(year, 1.0) * data.MONTH_WEIGHTS[month - 1])
            for year, month, days in months
        ]
        return _OriginDraws(
            origin=origin,
            hosts=_Weighted(hosts),
            scenarios=_Weighted(origin.scenarios),
            targets=_Weighted(origin.targets),
            communities=_Weighted([(c, c.weight) for c in origin.communities]),
            months=_Weighted(month_weights),
        )

    def _burst(self) -> _Burst:
        rng = self.rng
        draws = self.origins.draw(rng)
        # Waves are removals, detentions and mass pressure on families, the patterns that come in waves.
        candidates = [
            (s, w) for s, w in draws.origin.scenarios if s in ("interpol", "deportation", "rendition", "family")
        ]
        scenario = _Weighted(candidates).draw(rng) if candidates else draws.scenarios.draw(rng)
        start = self._day_in(draws.months.draw(rng))
        days = rng.randint(3, 21)
        start = min(start, data.DATA_END - dt.timedelta(days=days))
        return _Burst(draws, draws.hosts.draw(rng), scenario, start, days)

    def _day_in(self, month: tuple[int, int, int]) -> dt.date:
        year, number, days = month
        return dt.date(year, number, 1 + int(self.rng.random() * days))

    def incidents(self, count: int) -> Iterator[dict[str, Any]]:
        for _ in range(count):
            yield self.incident()

    def incident(self) -> dict[str, Any]:
        rng = self.rng
        incident_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        roll = rng.random()
        if roll < data.SURGE.share:
            draws, host = self.surge_draws, data.SURGE.host
            scenario_name = self.surge_scenarios.draw(rng)
            start = self._day_in(self.surge_months.draw(rng))
            mass_share = 0.07
        elif roll < data.SURGE.share + BURST_SHARE:
            burst = self.bursts[rng.randrange(len(self.bursts))]
            draws, host, scenario_name = burst.draws, burst.host, burst.scenario
            start = burst.start + dt.timedelta(days=rng.randrange(burst.days))
            mass_share = 0.5
        else:
            draws = self.origins.draw(rng)
            host, scenario_name = draws.hosts.draw(rng), draws.scenarios.draw(rng)
            start = self._day_in(draws.months.draw(rng))
            mass_share = 0.07
        origin = draws.origin
        scenario = data.SCENARIOS[scenario_name]
        community = draws.communities.draw(rng)

        core_tactic = self.scenario_core[scenario_name].draw(rng)
        tactics = [core_tactic]
        tactics += [tactic for tactic, p in scenario.extras if rng.random() < p]
        if rng.random() < 0.05:
            tactics.append(self.all_tactics[rng.randrange(len(self.all_tactics))])

        categories = [draws.targets.draw(rng)]
        if rng.random() < 0.3:
            categories.append(draws.targets.draw(rng))
        if scenario_name == "family" and rng.random() < 0.5:
            categories.append("family_member")
        flags = list(community.flags)
        if rng.random() < origin.women:
            flags.append("woman")
        if rng.random() < 0.33:
            flags.append("refugee")
        for flag, p in (("child", 0.02), ("lgbtqi", 0.02), ("stateless", 0.02), ("socioeconomic", 0.08)):
            if rng.random() < p:
                flags.append(flag)

        date_precision, date_end = self._dates(start)
        locations, where = self._locations(origin.code, host, scenario)
        obfuscated = locations[0]["obfuscated"]

        roll = rng.random()
        if roll < mass_share:
            target_count: int | None = MASS_EVENT_TARGETS + min(int(rng.expovariate(1 / 8)), 497)
        elif roll < mass_share + 0.15:
            target_count = None
        elif roll < mass_share + 0.27:
            target_count = 2
        else:
            target_count = 1

        older = start < self.older_than
        verification = (self.verification_older if older else self.verification_recent).draw(rng)
        tlp = (self.tlp_sensitive if obfuscated else self.tlp).draw(rng)
        host_role = self.host_roles[(scenario.host_class, host in data.RULE_OF_LAW_HOSTS)].draw(rng)
        sources = self._sources(start, verification)
        actors = self._actors(origin.code, scenario)
        indicators = _indicators(incident_id, tactics, start) if data.INDICATOR_TACTICS.intersection(tactics) else []
        incident = {
            "id": incident_id,
            "date_start": start,
            "date_end": date_end,
            "date_precision": date_precision,
            "locations": locations,
            "origin_countries": [origin.code],
            "tactics": tactics,
            "target_categories": categories,
            "vulnerability_flags": flags,
            "host_state_role": host_role,
            "target_count": target_count,
            "mass_event": target_count is not None and target_count >= MASS_EVENT_TARGETS,
            "verification": verification,
            "tlp": tlp,
            "sources": sources,
            "actors": actors,
            "indicators": indicators,
            "provenance": self.provenance,
            "synthetic": True,
        }
        incident["title"], incident["summary"] = self._text(
            origin, community, scenario.texts[core_tactic], where, incident
        )
        return incident

    def _dates(self, start: dt.date) -> tuple[str, dt.date | None]:
        """The date precision and, where the precision does not imply it, the end date (never after DATA_END)."""
        rng = self.rng
        precision = self.date_precision.draw(rng)
        if precision == "year" and start.year == data.DATA_END.year:
            precision = "month"  # a year not yet over would end after DATA_END
        if precision == "estimate":
            return precision, min(start + dt.timedelta(days=rng.randint(30, 540)), data.DATA_END)
        if precision == "day" and rng.random() < 0.1:
            return precision, min(start + dt.timedelta(days=rng.randint(1, 45)), data.DATA_END)
        return precision, None

    def _locations(self, origin: str, host: str, scenario: data.Scenario) -> tuple[list[dict[str, Any]], str]:
        """The locations and how the first is named in text (never finer than the country when obfuscated)."""
        rng = self.rng
        obfuscated = rng.random() < 0.03
        first, where = self._location(host, self.geo_precision.draw(rng), obfuscated)
        locations = [first]
        if rng.random() < scenario.second_location:
            locations.append(self._location(origin, self._coarse_precision(), obfuscated)[0])
        elif scenario.host_class == "removal" and rng.random() < 0.08:
            transit = self.transit.draw(rng)
            if transit not in (host, origin):
                locations.append(self._location(transit, self._coarse_precision(), obfuscated)[0])
        return locations, where

    def _coarse_precision(self) -> str:
        roll = self.rng.random()
        return "place" if roll < 0.5 else "admin1" if roll < 0.75 else "country"

    def _location(self, country: str, precision: str, obfuscated: bool) -> tuple[dict[str, Any], str]:
        place, admin1, lat, lon = self.cities[country].draw(self.rng)
        location: dict[str, Any] = {"country": country, "geo_precision": precision, "obfuscated": obfuscated}
        if precision == "point":
            jitter = self.rng.uniform
            lat, lon = round(lat + jitter(-0.04, 0.04), 5), round(lon + jitter(-0.04, 0.04), 5)
            location.update(place=place, admin1=admin1, lat=lat, lon=lon)
            where = place
        elif precision == "place":
            location.update(place=place, admin1=admin1, lat=lat, lon=lon)
            where = place
        elif precision == "admin1":
            location["admin1"] = admin1
            where = admin1
        else:
            where = _text_name(country)
        return location, (_text_name(country) if obfuscated else where)

    def _sources(self, start: dt.date, verification: str) -> list[dict[str, Any]]:
        rng = self.rng
        count = self.source_counts.draw(rng)
        if verification in ("corroborated", "verified"):
            count = max(count, 2)
        sources = []
        for _ in range(count):
            publisher = self.publishers.draw(rng)
            number = rng.randrange(1000, 100000)
            published = min(start + dt.timedelta(days=rng.randrange(0, 90)), data.DATA_END)
            has_url = rng.random() < publisher.has_url
            sources.append(
                {
                    "title": f"{publisher.kind} {number}",
                    "url": f"https://{publisher.domain}/{publisher.slug}/{published.year}/{number}"
                    if has_url
                    else None,
                    "publisher": publisher.name,
                    "published_on": published,
                    "reliability": self.reliability[publisher.name].draw(rng),
                    "credibility": self.credibility.draw(rng),
                }
            )
        return sources

    def _actors(self, origin: str, scenario: data.Scenario) -> list[dict[str, Any]]:
        rng = self.rng
        if rng.random() >= 0.4:
            return []
        chosen = scenario.actors[:1] if len(scenario.actors) == 1 or rng.random() < 0.7 else scenario.actors
        return [{"id": actor_uuid(origin, actor_type), "role": role} for actor_type, role in chosen]

    def _pseudonym(self) -> str:
        bits = self.rng.getrandbits(35)
        return "Person P-" + "".join(_PSEUDONYM_ALPHABET[(bits >> shift) & 31] for shift in range(0, 35, 5))

    def _text(
        self,
        origin: data.Origin,
        community: data.Community,
        texts: tuple[tuple[str, str], ...],
        where: str,
        incident: dict[str, Any],
    ) -> tuple[str, str]:
        """A title and a summary in plain English that read like coding notes and name no real person."""
        rng = self.rng
        singular, plural = data.TARGET_NOUNS[incident["target_categories"][0]]
        count = incident["target_count"]
        title_pattern, sentence_pattern = texts[int(rng.random() * len(texts))]
        who = (
            f"{count} {community.adjective} {plural}" if incident["mass_event"] else f"{community.adjective} {singular}"
        )
        title = title_pattern.format(who=who, where=where, origin=origin.name)
        sentence = sentence_pattern.format(origin=origin.name)
        when = _when(incident["date_start"], incident["date_precision"], incident["date_end"])
        pseudonym = self._pseudonym()
        if incident["mass_event"]:
            lead = (
                f"{when}, {count} {community.adjective} {plural} living in {where} were targeted together. "
                f"In one of the cases, a person referred to here as {pseudonym} {sentence}."
            )
        else:
            lead = (
                f"{when}, {_article(community.adjective)} {community.adjective} {singular} living in {where}, "
                f"referred to here as {pseudonym}, {sentence}."
            )
        role = _HOST_ROLE_SENTENCES[incident["host_state_role"]]
        n = len(incident["sources"])
        sources = f"Coded from {n} synthetic source{'' if n == 1 else 's'}."
        return title[:1].upper() + title[1:], f"{lead} {role} {sources}"


def _indicators(incident_id: uuid.UUID, tactics: Sequence[str], start: dt.date) -> list[dict[str, Any]]:
    """Synthetic indicators of a digital incident, from a stream of their own (the incident's id seeds it)."""
    rng = random.Random(incident_id.int)  # noqa: S311  reproducible on purpose; nothing here is secret
    if rng.random() >= data.INDICATOR_SHARE:
        return []
    kinds: tuple[str, ...] = ("domain-name", "url", "ipv4-addr", "ipv6-addr", "file-sha256", "email-addr")
    if "spyware" not in tactics:
        kinds = ("domain-name", "url", "email-addr")  # account compromise: phishing
    found: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 4)):
        domain = f"{rng.choice(data.INDICATOR_WORDS)}-{rng.randrange(100, 1000)}.{rng.choice(data.INDICATOR_DOMAINS)}"
        kind = rng.choice(kinds)
        value = {
            "domain-name": domain,
            "url": f"https://{domain}/{rng.choice(data.INDICATOR_WORDS)}/{rng.randrange(10**6):06d}",
            "ipv4-addr": f"{rng.choice(data.INDICATOR_IPV4_NETWORKS)}.{rng.randrange(1, 255)}",
            "ipv6-addr": f"{data.INDICATOR_IPV6_NETWORK}::{rng.randrange(1, 0xFFFF):x}",
            "file-sha256": hashlib.sha256(f"tnrwatch synthetic sample {rng.randrange(10**6)}".encode()).hexdigest(),
            "email-addr": f"{rng.choice(data.INDICATOR_WORDS)}@{domain}",
        }[kind]
        first_seen = min(start + dt.timedelta(days=rng.randrange(0, 30)), data.DATA_END)
        last_seen = min(first_seen + dt.timedelta(days=rng.randrange(0, 60)), data.DATA_END)
        found.append(
            {
                "kind": kind,
                "value": value,
                "note": data.INDICATOR_NOTES[kind],
                "first_seen": first_seen,
                "last_seen": last_seen,
            }
        )
    return found


def _article(word: str) -> str:
    """'an Uzbek', 'an Iranian', but 'a Uyghur' and 'a Ugandan' (a 'you' sound)."""
    return "an" if word[0] in "AEIO" or word.startswith("Uz") else "a"


_HOST_ROLE_SENTENCES = {
    "protective": "The host authorities opened an investigation and offered protection.",
    "passive": "The host authorities were informed but took no visible action.",
    "cooperating": "The host authorities acted on the request of the origin state.",
    "complicit": "Host officials are reported to have helped the origin state's agents.",
    "unknown": "The host state's role is not known.",
}


def _when(start: dt.date, precision: str, end: dt.date | None) -> str:
    month = _MONTH_NAMES[start.month]
    if precision == "month":
        return f"In {month} {start.year}"
    if precision == "year":
        return f"In {start.year}"
    if precision == "estimate":
        return (
            f"At some time between {month} {start.year} and {_MONTH_NAMES[end.month]} {end.year}"
            if end
            else (f"Around {month} {start.year}")
        )
    if end is not None and end != start:
        return f"Between {start.day} {month} {start.year} and {end.day} {_MONTH_NAMES[end.month]} {end.year}"
    return f"On {start.day} {month} {start.year}"


def actor_uuid(origin: str, actor_type: str) -> uuid.UUID:
    """The fixed uuid of a synthetic actor, the same on every node and for every seed."""
    return uuid.uuid5(ACTOR_NAMESPACE, f"synthetic-actor:{origin}:{actor_type}")
