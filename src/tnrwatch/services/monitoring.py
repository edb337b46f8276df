"""Monitoring: monthly incident counts per origin state, host state, origin -> host pair and tactic family, and the
escalation signals the detector (domain/escalation.py) finds in them.

A month is the month of an incident's `date_start`. An incident counts once per series value: two locations in one
host country are one incident for that host, two tactics of one family one incident for that family. Incidents the
principal may not read (services/incidents.py, `hidden_incidents`) are left out of every count, so that a signal
never reveals a record its reader could not open. Only counts leave this module; reading them is not audited (as
the search facets are not).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, extract, func, literal, not_, select

from tnrwatch.domain.escalation import (
    DEFAULT,
    Series,
    SeriesKey,
    SeriesKind,
    Settings,
    Signal,
    add_months,
    detect,
    month_range,
    month_start,
)
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services.incidents import hidden_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Incident, IncidentLocation, IncidentOrigin, IncidentTactic
from tnrwatch.taxonomy import Taxonomy

PAIR_SEPARATOR = "->"


def default_as_of(today: dt.date | None = None) -> dt.date:
    """The last complete month: the current one is still filling up and would look calm."""
    return add_months(month_start(today or dt.date.today()), -1)


def latest_month(node: Node, principal: Principal) -> dt.date | None:
    """The month of the latest readable incident's start (None when there is none): where a node's data ends, which
    for demo or imported data can be well before the last complete month."""
    require(principal, "incident:read")
    hidden = hidden_incidents(principal)
    with node.store.reading() as session:
        latest = session.scalar(
            select(func.max(Incident.date_start)).where(*([] if hidden is None else [not_(hidden)]))
        )
    return None if latest is None else month_start(latest)


def series_span(as_of: dt.date, settings: Settings = DEFAULT) -> tuple[dt.date, dt.date]:
    """The first and last month the detector needs for `as_of`: its baseline window before its longest span."""
    last = month_start(as_of)
    return add_months(last, -(settings.window + max(settings.spans) - 1)), last


def monthly_series(
    node: Node, principal: Principal, first: dt.date, last: dt.date
) -> dict[SeriesKey, list[tuple[dt.date, int]]]:
    """Zero-filled monthly counts from `first` to `last` (first-of-month dates) for every series value with at least
    one readable incident in that period. Months before the node's earliest readable incident are left out: they
    are unknown, not calm."""
    require(principal, "incident:read")
    first, last = month_start(first), month_start(last)
    if first > last:
        raise InvalidInputError("the period is empty", [FieldError(("first",), "must not be after last")])
    hidden = hidden_incidents(principal)
    visible: list[ColumnElement[bool]] = [] if hidden is None else [not_(hidden)]
    counts: dict[SeriesKey, dict[dt.date, int]] = defaultdict(dict)
    with node.store.reading() as session:
        earliest = session.scalar(select(func.min(Incident.date_start)).where(*visible))
        if earliest is None:
            return {}
        first = max(first, month_start(earliest))
        if first > last:
            return {}
        period = [Incident.date_start >= first, Incident.date_start < add_months(last, 1), *visible]
        for kind, statement in _statements(node.taxonomy, period):
            for value, year, month, count in session.execute(statement):
                counts[SeriesKey(kind, str(value))][dt.date(int(year), int(month), 1)] = int(count)
    months = month_range(first, last)
    return {key: [(m, by_month.get(m, 0)) for m in months] for key, by_month in sorted(counts.items())}


def _statements(taxonomy: Taxonomy, period: list[ColumnElement[bool]]) -> list[tuple[SeriesKind, Select[Any]]]:
    year = extract("year", Incident.date_start)
    month = extract("month", Incident.date_start)
    family = case({term.code: term.family for term in taxonomy.tactics}, value=IncidentTactic.tactic)
    pair = IncidentOrigin.country + literal(PAIR_SEPARATOR) + IncidentLocation.country

    def grouped(value: Any, *joins: Any) -> Select[Any]:
        statement = select(value, year, month, func.count(distinct(Incident.id))).select_from(Incident)
        for table in joins:
            statement = statement.join(table, table.incident_id == Incident.id)
        return statement.where(*period).group_by(value, year, month)

    return [
        ("origin", grouped(IncidentOrigin.country, IncidentOrigin)),
        ("host", grouped(IncidentLocation.country, IncidentLocation)),
        ("pair", grouped(pair, IncidentOrigin, IncidentLocation)),
        ("tactic_family", grouped(family, IncidentTactic).where(family.is_not(None))),
    ]


def signals(
    node: Node, principal: Principal, *, as_of: dt.date | None = None, settings: Settings = DEFAULT
) -> list[Signal]:
    """The escalations in `as_of`'s month (default: the last complete month) over every series, most significant
    first, each with its evidence (the series, the baseline, the test statistic and p-values)."""
    require(principal, "incident:read")
    first, last = series_span(as_of or default_as_of(), settings)
    series: dict[SeriesKey, Series] = dict(monthly_series(node, principal, first, last))
    return detect(series, settings)


def signal_to_json(signal: Signal) -> dict[str, Any]:
    """A signal and its evidence as plain JSON values (months as YYYY-MM)."""
    return {
        "kind": signal.key.kind,
        "value": signal.key.value,
        "month": signal.month.strftime("%Y-%m"),
        "span_months": signal.span,
        "observed": signal.observed,
        "expected": round(signal.expected, 4),
        "model": signal.model,
        "dispersion": round(signal.dispersion, 4),
        "statistic": round(signal.statistic, 4),
        "p_value": signal.p_value,
        "adjusted_p_value": signal.adjusted_p_value,
        "series": [[month.strftime("%Y-%m"), count] for month, count in signal.series],
    }
