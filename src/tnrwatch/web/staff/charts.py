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
            x=alt.X("yearmonth(month):T", title="Month"),
            y=alt.Y("sum(count):Q", title="Incidents"),
            color=alt.Color("family:N", title="Tactic family", legend=alt.Legend(orient="bottom", columns=3)),
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
