"""/app/monitoring: the escalation signals of one month (services/monitoring.py, domain/escalation.py), each with its
evidence: the series and its baseline as a chart (charts.series) and a table, the model, the test statistic and the
p-values, and links to the map filtered by the series and to the origin's state profile.

The month assessed defaults to the last complete month, or to the month the readable data ends in when that is
earlier (demo and imported data end on a fixed day): assessing months after the data ends would only find calm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from tnrwatch.domain.countries import country_name
from tnrwatch.domain.escalation import DEFAULT, SeriesKind, Signal, add_months
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import monitoring
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.taxonomy import Taxonomy
from tnrwatch.web.staff import charts
from tnrwatch.web.staff.session import render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)

KIND_LABELS: dict[SeriesKind, str] = {
    "origin": "Origin state",
    "host": "Host state",
    "pair": "Origin → host",
    "tactic_family": "Tactic family",
}
MODEL_LABELS = {"poisson": "Poisson", "negative_binomial": "Negative binomial"}


@dataclass(frozen=True)
class SignalView:
    """One signal as the page shows it."""

    signal: Signal
    index: int
    kind_label: str
    label: str
    origin: str | None  # the origin state whose profile the signal links to
    first_month: dt.date
    map_url: str
    months: list[tuple[str, int, str]]  # (YYYY-MM, count, part of the series) for the table

    @property
    def chart_id(self) -> str:
        return f"signal-chart-{self.index}"

    @property
    def origin_name(self) -> str:
        return country_name(self.origin) if self.origin else ""

    @property
    def model_label(self) -> str:
        return MODEL_LABELS[self.signal.model]

    @property
    def span_start(self) -> dt.date:
        return add_months(self.signal.month, 1 - self.signal.span)

    @property
    def tested_months(self) -> str:
        """The tested months in words: October 2026, or August to October 2026 for a span."""
        last = self.signal.month
        if self.signal.span == 1:
            return f"{last:%B %Y}"
        first = self.span_start
        return f"{first:%B}{'' if first.year == last.year else f' {first.year}'} to {last:%B %Y}"

    @property
    def ratio(self) -> float:
        return self.signal.observed / self.signal.expected if self.signal.expected else float("inf")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_p(value: float) -> str:
    """A p-value for people: 0.023, or 9.4 × 10⁻²⁷ below 0.001."""
    if value >= 0.001:
        return f"{value:.3f}"
    mantissa, _, exponent = f"{value:.1e}".partition("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def parse_as_of(text: str | None) -> dt.date | None:
    """A month from the form's `as_of` field (YYYY-MM; a full date is read as its month). None when empty."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    for pattern in ("%Y-%m", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, pattern).date().replace(day=1)
        except ValueError:
            continue
    raise InvalidInputError(
        "the month to assess is invalid",
        [FieldError(("query", "as_of"), f"{value[:20]!r} is not a month like 2026-10 (YYYY-MM)")],
    )


def page_default_as_of(node: Node, principal: Principal, today: dt.date | None = None) -> dt.date:
    """The last complete month, or the month of the latest readable incident when that is earlier."""
    latest = monitoring.latest_month(node, principal)
    default = monitoring.default_as_of(today)
    return min(default, latest) if latest is not None else default


@router.get("/app/monitoring", response_class=HTMLResponse, dependencies=[staff_permits("incident:read")])
def monitoring_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    as_of: str | None = Query(None, max_length=20),
) -> HTMLResponse:
    node = _node(request)
    chosen = parse_as_of(as_of)
    default = page_default_as_of(node, principal)
    month = chosen or default
    found = monitoring.signals(node, principal, as_of=month)
    views = [_view(index, signal, node.taxonomy) for index, signal in enumerate(found, start=1)]
    specs = {
        view.chart_id: charts.series(
            [(m, count) for m, count, _ in view.months],
            span=view.signal.span,
            expected=view.signal.expected,
            window=DEFAULT.window,
        )
        for view in views
    }
    first, _ = monitoring.series_span(month)
    return render_staff(
        request,
        "staff/monitoring.html",
        {
            "principal": principal,
            "month": month,
            "default_month": default,
            "last_complete": monitoring.default_as_of(),
            "baseline_first": first,
            "signals": views,
            "settings": DEFAULT,
            "specs": specs,
            "format_p": format_p,
            "may_propose": allowed(principal, "alert:write"),  # a draft alert from a signal (web/staff/alerts.py)
        },
    )


def series_label(kind: SeriesKind, value: str, taxonomy: Taxonomy) -> str:
    """A series' value in words: a country's name, "Uzbekistan → Türkiye", a tactic family's label."""
    if kind in ("origin", "host"):
        return country_name(value)
    if kind == "pair":
        origin, _, host = value.partition(monitoring.PAIR_SEPARATOR)
        return f"{country_name(origin)} → {country_name(host)}"
    return taxonomy.tactic_families.label(value)


def map_filter(kind: SeriesKind, value: str) -> dict[str, str]:
    """The map's filter fields that select a series' incidents."""
    if kind == "pair":
        origin, _, host = value.partition(monitoring.PAIR_SEPARATOR)
        return {"origin": origin, "host": host}
    return {kind: value}


def _view(index: int, signal: Signal, taxonomy: Taxonomy) -> SignalView:
    kind, value = signal.key.kind, signal.key.value
    first = signal.series[0][0]
    last_day = add_months(signal.month, 1) - dt.timedelta(days=1)
    query = {**map_filter(kind, value), "date_from": first.isoformat(), "date_to": last_day.isoformat()}
    origin = value.partition(monitoring.PAIR_SEPARATOR)[0] if kind in ("origin", "pair") else None
    tested = len(signal.series) - signal.span
    window = DEFAULT.window

    def part(position: int) -> str:
        if position >= tested:
            return "tested"
        return "baseline" if position >= tested - window else "earlier"

    return SignalView(
        signal=signal,
        index=index,
        kind_label=KIND_LABELS[kind],
        label=series_label(kind, value, taxonomy),
        origin=origin,
        first_month=first,
        map_url="/app/map?" + urlencode(query),
        months=[(m.strftime("%Y-%m"), count, part(i)) for i, (m, count) in enumerate(signal.series)],
    )
