"""Monitoring on SQLite and PostgreSQL: the monthly series match a plain per-incident count, hidden incidents are
left out, and a jump becomes a signal."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest

from tnrwatch.domain.escalation import SeriesKey, add_months
from tnrwatch.errors import ForbiddenError
from tnrwatch.services import incidents, monitoring
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data

ANALYST = Principal(account_id=None, username="ana", role="analyst")
LIAISON = Principal(account_id=None, username="lia", role="liaison")
TACTICS = ["abduction", "assault", "interpol_red_notice", "family_threats", "spyware", "doxxing"]


def create(node: Node, day: dt.date, **overrides: Any) -> dict[str, Any]:
    data = incident_data(date_start=day.isoformat(), **overrides)
    incidents.create_incident(node, ANALYST, data)
    return data


def plain_counts(node: Node, created: list[dict[str, Any]], first: dt.date, last: dt.date) -> dict[SeriesKey, Any]:
    """Per incident, in Python: the series values it belongs to, counted once per month."""
    per_key: dict[SeriesKey, Counter[dt.date]] = {}
    for data in created:
        month = dt.date.fromisoformat(data["date_start"]).replace(day=1)
        if not first <= month <= last:
            continue
        origins = set(data["origin_countries"])
        hosts = {location["country"] for location in data["locations"]}
        keys = {SeriesKey("origin", o) for o in origins} | {SeriesKey("host", h) for h in hosts}
        keys |= {SeriesKey("pair", f"{o}->{h}") for o in origins for h in hosts}
        keys |= {SeriesKey("tactic_family", node.taxonomy.family_of(t)) for t in data["tactics"]}
        for key in keys:
            per_key.setdefault(key, Counter())[month] += 1
    months = []
    month = min(dt.date.fromisoformat(d["date_start"]).replace(day=1) for d in created)
    month = max(month, first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return {key: [(m, counts[m]) for m in months] for key, counts in sorted(per_key.items())}


def test_series_match_a_plain_count(node: Node, operator: Principal) -> None:
    rng = random.Random(5)
    created = []
    for _ in range(40):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 500))
        locations = [
            {"country": rng.choice(["TR", "DE", "FR"]), "geo_precision": "country"} for _ in range(rng.randint(1, 2))
        ]
        created.append(
            create(
                node,
                day,
                origin_countries=rng.sample(["UZ", "RU", "CN"], rng.randint(1, 2)),
                locations=locations,
                tactics=rng.sample(TACTICS, rng.randint(1, 3)),
                tlp=rng.choice(["green", "amber", "red"]),
            )
        )
    first, last = dt.date(2024, 3, 1), dt.date(2025, 2, 1)
    got = monitoring.monthly_series(node, operator, first, last)
    assert got == plain_counts(node, created, first, last)
    assert {key.kind for key in got} == {"origin", "host", "pair", "tactic_family"}
    # From before the first incident: the months before it are unknown, not zero.
    whole = monitoring.monthly_series(node, operator, dt.date(2020, 1, 1), last)
    assert whole == plain_counts(node, created, dt.date(2020, 1, 1), last)
    assert min(m for values in whole.values() for m, _ in values) == min(
        dt.date.fromisoformat(d["date_start"]).replace(day=1) for d in created
    )
    # A liaison reads no RED node record: those are not counted for them.
    readable = [d for d in created if d["tlp"] != "red"]
    assert monitoring.monthly_series(node, LIAISON, first, last) == plain_counts(node, readable, first, last)


def test_a_jump_is_a_signal_with_its_evidence(node: Node) -> None:
    as_of = dt.date(2025, 12, 1)
    for back in range(1, 25):
        create(node, add_months(as_of, -back).replace(day=10), origin_countries=["UZ"])
    for day in range(1, 8):
        create(node, as_of.replace(day=day), origin_countries=["UZ"])
    found = monitoring.signals(node, ANALYST, as_of=as_of)
    assert {(s.key.kind, s.key.value) for s in found} == {
        ("origin", "UZ"),
        ("host", "TR"),
        ("pair", "UZ->TR"),
        ("tactic_family", "physical"),
    }
    signal = found[0]
    assert signal.month == as_of
    assert signal.observed == 7
    assert signal.expected == pytest.approx(1.0)
    assert signal.adjusted_p_value < 0.05
    assert signal.series[-1] == (as_of, 7)
    assert len(signal.series) == 25  # from the first incident; the detector would take 24 + 3 months
    body = monitoring.signal_to_json(signal)
    assert body["month"] == "2025-12"
    assert body["series"][-1] == ["2025-12", 7]
    # The month before: nothing escalated yet.
    assert monitoring.signals(node, ANALYST, as_of=add_months(as_of, -1)) == []


def test_reading_signals_needs_incident_read(node: Node) -> None:
    with pytest.raises(ForbiddenError):
        monitoring.signals(node, Principal(account_id=None, username="aud", role="auditor"), as_of=dt.date(2025, 1, 1))
