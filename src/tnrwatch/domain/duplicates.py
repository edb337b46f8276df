"""Duplicate detection: how much an incident being coded looks like one already stored, and why.

Pure scoring over `Profile`s (no I/O). Each kind of likeness adds a weight; the weights add up to 1.0 for two
incidents that agree on everything:

| likeness | weight |
|---|---|
| a person in common (by id) | 0.45 |
| dates that overlap; dates near each other, less the further apart | 0.25 |
| the same place in the same host country; else only the same host country | 0.15; 0.08 |
| an origin state in common | 0.08 |
| tactics in common (the share of all tactics of both) | 0.07 |

"Near" depends on how precise the dates are: the coarser of the two precisions sets the slack (a few days for exact
dates, more for a month, a year or an estimate). An incident is a candidate from `THRESHOLD` on: a shared person alone
is enough; without one it takes near dates and something shared about the place or the origin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from tnrwatch.domain.incident import IncidentIn

THRESHOLD = 0.4
WEIGHTS: dict[str, float] = {
    "person": 0.45,
    "dates": 0.25,
    "place": 0.15,
    "host": 0.08,
    "origin": 0.08,
    "tactic": 0.07,
}
# Days two date ranges may lie apart and still count as near, by the coarser of their precisions.
SLACK_DAYS: dict[str, int] = {"day": 3, "month": 15, "year": 60, "estimate": 90}
MAX_SLACK_DAYS = max(SLACK_DAYS.values())


@dataclass(frozen=True)
class Profile:
    """What duplicate detection compares of an incident. Places are (country, place name folded to lower case)."""

    id: UUID | None
    date_start: dt.date
    date_end: dt.date
    date_precision: str = "day"
    persons: frozenset[UUID] = frozenset()
    hosts: frozenset[str] = frozenset()
    places: frozenset[tuple[str, str]] = frozenset()
    origins: frozenset[str] = frozenset()
    tactics: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reason:
    """One likeness and the weight it adds. `shared` names what the two have in common (person ids as text,
    country codes, "CC/place", tactic codes); `days_apart` is 0 for overlapping dates."""

    kind: str
    weight: float
    shared: tuple[str, ...] = ()
    days_apart: int = 0


@dataclass(frozen=True)
class Candidate:
    incident_id: UUID
    score: float
    reasons: tuple[Reason, ...]


def fold(place: str) -> str:
    return " ".join(place.casefold().split())


def profile_of(incident: IncidentIn, incident_id: UUID | None = None) -> Profile:
    """The profile of a validated incident (its dates already widened to their precision)."""
    return Profile(
        id=incident_id if incident_id is not None else incident.id,
        date_start=incident.date_start,
        date_end=incident.date_end or incident.date_start,
        date_precision=incident.date_precision,
        persons=frozenset(link.id for link in incident.persons),
        hosts=frozenset(location.country for location in incident.locations),
        places=frozenset((loc.country, fold(loc.place)) for loc in incident.locations if loc.place and fold(loc.place)),
        origins=frozenset(incident.origin_countries),
        tactics=frozenset(incident.tactics),
    )


def days_apart(a: Profile, b: Profile) -> int:
    """Days between two date ranges; 0 when they overlap."""
    return max(0, (max(a.date_start, b.date_start) - min(a.date_end, b.date_end)).days)


def slack(a: Profile, b: Profile) -> int:
    return max(SLACK_DAYS.get(a.date_precision, MAX_SLACK_DAYS), SLACK_DAYS.get(b.date_precision, MAX_SLACK_DAYS))


def reasons(new: Profile, old: Profile) -> tuple[Reason, ...]:
    """Every likeness of the two profiles, strongest kind first. Symmetric: swapping them gives the same reasons."""
    found: list[Reason] = []
    persons = new.persons & old.persons
    if persons:
        found.append(Reason("person", WEIGHTS["person"], tuple(sorted(str(p) for p in persons))))
    gap, allowed = days_apart(new, old), slack(new, old)
    if gap <= allowed:
        # Overlapping dates weigh fully; near ones less the further apart, and never nothing.
        weight = WEIGHTS["dates"] * (1 - gap / (allowed + 1))
        found.append(Reason("dates", round(weight, 4), (), gap))
    places = new.places & old.places
    hosts = new.hosts & old.hosts
    if places:
        found.append(Reason("place", WEIGHTS["place"], tuple(sorted(f"{c}/{p}" for c, p in places))))
    elif hosts:
        found.append(Reason("host", WEIGHTS["host"], tuple(sorted(hosts))))
    origins = new.origins & old.origins
    if origins:
        found.append(Reason("origin", WEIGHTS["origin"], tuple(sorted(origins))))
    tactics = new.tactics & old.tactics
    if tactics:
        share = len(tactics) / len(new.tactics | old.tactics)
        found.append(Reason("tactic", round(WEIGHTS["tactic"] * share, 4), tuple(sorted(tactics))))
    return tuple(found)


def score(new: Profile, old: Profile) -> float:
    """From 0 (nothing in common) to 1 (the same person, overlapping dates, same place, origins and tactics)."""
    return _total(reasons(new, old))


def _total(found: Iterable[Reason]) -> float:
    return min(1.0, round(sum(reason.weight for reason in found), 3))


def candidates(
    new: Profile, stored: Iterable[Profile], *, threshold: float = THRESHOLD, limit: int = 5
) -> list[Candidate]:
    """The stored incidents that may be `new` again, best first (ties by id), at most `limit`. Profiles without an
    id, and the one with `new`'s own id, are skipped."""
    found = []
    for old in stored:
        if old.id is None or old.id == new.id:
            continue
        why = reasons(new, old)
        total = _total(why)
        if total >= threshold:
            found.append(Candidate(old.id, total, why))
    found.sort(key=lambda candidate: (-candidate.score, str(candidate.incident_id)))
    return found[:limit]
