"""Vega-Lite specifications for the staff pages' charts, built in Python with Altair and served as JSON inside the
page (a `<script type="application/json">` block). The pages draw them with the vendored vega-embed under the CSP
(canvas renderer, Vega's expression interpreter, no eval).

Every datum keeps the code it stands for (`value`, `tactic_family`, `origin`/`host`) beside its label, so that a page's
script can turn a click on a bar into a filter. Every chart has a table beside it holding the same numbers: the chart
is for the eye, the table for keyboards and screen readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt

BAR_COLOUR = "#356ca8"
HEIGHT_PER_BAR = 18


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict(validate=True)
    # "$schema" names the Vega-Lite schema's address on the web; nothing fetches it, and no page names a third party.
    spec.pop("$schema", None)
    return spec


def timeline(rows: Iterable[Mapping[str, Any]], family_labels: Mapping[str, str]) -> dict[str, Any]:
    """Incidents per month stacked by tactic family. `rows`: {month: "YYYY-MM", tactic_family, count}."""
    values = [
        {
            "month": f"{row['month']}-01",
            "tactic_family": row["tactic_family"],
            "family": family_labels.get(row["tactic_family"], row["tactic_family"]),
            "count": row["count"],
        }
        for row in rows
    ]
    chart = (
        alt.Chart({"values": values})
        .mark_bar()
        .encode(
            # One row per (month, family) already: no aggregate, so that a clicked bar's datum keeps its month.
            x=alt.X("utcyearmonth(month):T", title="Month"),
            y=alt.Y("count:Q", title="Incidents", stack="zero"),
            color=alt.Color(
                "family:N", title="Tactic family", legend=alt.Legend(orient="bottom", columns=2, labelLimit=0)
            ),
        )
        .properties(width="container", height=180)
    )
    return _spec(chart)


def bars(rows: Iterable[tuple[str, str, int]], title: str) -> dict[str, Any]:
    """A horizontal bar per (value, label, count), largest first: a facet's counts (tactic mix, target mix)."""
    values = [{"value": value, "label": label, "count": count} for value, label, count in rows]
    chart = (
        alt.Chart({"values": values})
        .mark_bar(color=BAR_COLOUR)
        .encode(
            x=alt.X("count:Q", title="Incidents"),
            y=alt.Y("label:N", title=title, sort="-x"),
        )
        .properties(width="container", height=max(60, HEIGHT_PER_BAR * len(values)))
    )
    return _spec(chart)


def pairs(rows: Iterable[tuple[str, str, int]], names: Mapping[str, str]) -> dict[str, Any]:
    """A horizontal bar per origin -> host pair, largest first. `rows`: (origin, host, count)."""
    values = [
        {
            "origin": origin,
            "host": host,
            "label": f"{names.get(origin, origin)} → {names.get(host, host)}",
            "count": count,
        }
        for origin, host, count in rows
    ]
    chart = (
        alt.Chart({"values": values})
        .mark_bar(color="#b3261e")
        .encode(
            x=alt.X("count:Q", title="Incidents"),
            y=alt.Y("label:N", title="Origin → host", sort="-x"),
        )
        .properties(width="container", height=max(60, HEIGHT_PER_BAR * len(values)))
    )
    return _spec(chart)


SERIES_PARTS = ("earlier months", "baseline window", "tested months", "expected")
SERIES_COLOURS = ("#b8c2cc", BAR_COLOUR, "#b3261e", "#1b1b1b")


def series(months: Iterable[tuple[str, int]], *, span: int, expected: float, window: int) -> dict[str, Any]:
    """A signal's evidence: its monthly counts as bars, the last `span` months (the tested ones) apart from the
    `window` months before them (the baseline), and the expected count per tested month (`expected`, the span's
    sum, spread evenly) as a mark across each tested bar. `months`: (month "YYYY-MM", count), oldest first."""
    rows = list(months)
    tested = len(rows) - span

    def part(index: int) -> str:
        return SERIES_PARTS[2] if index >= tested else SERIES_PARTS[1] if index >= tested - window else SERIES_PARTS[0]

    values: list[dict[str, Any]] = [
        {"month": month, "count": count, "part": part(index)} for index, (month, count) in enumerate(rows)
    ]
    values += [
        {"month": month, "count": round(expected / span, 2), "part": SERIES_PARTS[3]} for month, _ in rows[tested:]
    ]
    colour = alt.Color(
        "part:N", title=None, scale=alt.Scale(domain=list(SERIES_PARTS), range=list(SERIES_COLOURS)),
        legend=alt.Legend(orient="bottom", direction="horizontal"),
    )  # fmt: skip
    x = alt.X("month:O", title=None, sort=None, axis=alt.Axis(labelAngle=-50))
    base = alt.Chart({"values": values})
    bars = (
        base.transform_filter(alt.datum.part != SERIES_PARTS[3])
        .mark_bar()
        .encode(x=x, y=alt.Y("count:Q", title="Incidents"), color=colour)
    )
    marks = (
        base.transform_filter(alt.datum.part == SERIES_PARTS[3])
        .mark_tick(thickness=3)
        .encode(x=x, y=alt.Y("count:Q"), color=colour)
    )
    chart = alt.layer(bars, marks).properties(width="container", height=200)
    return _spec(
        chart.configure_axis(labelFontSize=11, titleFontSize=12).configure_legend(labelFontSize=12, symbolType="square")
    )
