"""The monitoring page: the demo data's escalation listed with its evidence (numbers, chart spec, table, links), the
"no signals" state, the month to assess, and signals counted over what the reader may read only. Both databases."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient

from tnrwatch.domain.escalation import add_months
from tnrwatch.services import demo, incidents, monitoring
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.staff.monitoring import format_p, page_default_as_of

from ..factories import incident_data
from .test_case_pages import sign_in, words
from .test_incident_sharing_pages import make_analyst
from .test_staff_pages import OPERATOR, client, intake, make_officer, settings

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def chart_specs(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="chart-specs" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the page carries no chart specs"
    specs: dict[str, Any] = json.loads(found.group(1))
    return specs


def test_the_demo_data_shows_its_escalation_with_the_evidence(client: TestClient, node: Node) -> None:
    demo.seed_demo(node, OPERATOR, 5000, 1)
    make_analyst(node, "ana")
    sign_in(client, "ana")
    response = client.get("/app/monitoring")
    assert response.status_code == 200
    page = " ".join(response.text.split())
    # The demo data ends in October 2026: the page assesses that month, and says why, whenever it is viewed.
    assert 'name="as_of" type="month" value="2026-10"' in page
    expected = monitoring.signals(node, Principal(None, "ana", "analyst"), as_of=dt.date(2026, 10, 1))
    pair = next(s for s in expected if s.key.value == "UZ->TR")
    assert f"<strong>{len(expected)}</strong> signals in October 2026" in page
    assert "Uzbekistan → Türkiye" in page
    position = expected.index(pair) + 1
    article = page.split(f'id="signal-title-{position}"')[1].split("</article>")[0]
    assert "Origin → host" in article
    assert f"<strong>{pair.observed}</strong> incidents in August to October 2026" in article
    assert f"{pair.expected:.2f}" in article
    assert ("Negative binomial" if pair.model == "negative_binomial" else "Poisson") in article
    assert f"z = {pair.statistic:.2f}" in article
    assert format_p(pair.p_value) in article
    assert format_p(pair.adjusted_p_value) in article
    first = pair.series[0][0]
    assert f'href="/app/map?origin=UZ&amp;host=TR&amp;date_from={first.isoformat()}&amp;date_to=2026-10-31"' in article
    assert 'href="/app/states/UZ"' in article
    # The table holds the series; the tested months are marked.
    rows = re.findall(
        r'<tr(?: class="staff-tested")?><th scope="row">(\d{4}-\d\d)</th><td class="staff-number">(\d+)</td>', article
    )
    assert [(m, int(c)) for m, c in rows] == [(m.strftime("%Y-%m"), c) for m, c in pair.series]
    assert article.count('class="staff-tested"') == pair.span
    # The chart draws the same series, with the expected count over the tested months.
    spec = chart_specs(response.text)[f"signal-chart-{position}"]
    assert f'id="signal-chart-{position}"' in article
    values = next(iter(spec["datasets"].values()))
    bars = [(v["month"], v["count"]) for v in values if v["part"] != "expected"]
    assert bars == [(m.strftime("%Y-%m"), c) for m, c in pair.series]
    marks = [v for v in values if v["part"] == "expected"]
    assert len(marks) == pair.span
    assert abs(sum(v["count"] for v in marks) - pair.expected) < 0.05  # per month, rounded to 0.01
    # The map link finds the incidents behind the signal.
    map_page = words(client, article.split('href="')[1].split('"')[0].replace("&amp;", "&"))
    assert "incidents match" in map_page


def test_no_signal_says_so_and_the_month_can_be_chosen(client: TestClient, node: Node) -> None:
    incidents.create_incident(node, OPERATOR, incident_data(tlp="green", date_start="2025-03-10"))
    make_analyst(node, "ana")
    sign_in(client, "ana")
    page = words(client, "/app/monitoring?as_of=2025-03")
    assert "<strong>No signals</strong> in March 2025." in page
    assert 'value="2025-03"' in page
    assert "needs 12 months of history" in page
    assert "How signals are found" in page
    assert "Benjamini-Hochberg" in page
    # The default: the month the readable data ends in, as it is before the last complete month.
    default = words(client, "/app/monitoring")
    assert 'value="2025-03"' in default
    assert "the month the incidents you may read end in" in default
    refused = client.get("/app/monitoring?as_of=March")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["query", "as_of"]


def test_the_default_month_is_the_last_complete_one_unless_the_data_ends_earlier(node: Node) -> None:
    analyst = Principal(None, "ana", "analyst")
    assert page_default_as_of(node, analyst, dt.date(2026, 11, 29)) == dt.date(2026, 10, 1)  # no data at all
    incidents.create_incident(node, OPERATOR, incident_data(tlp="green", date_start="2025-03-10"))
    german = Principal(None, "olga", "officer", "DE")
    incidents.create_incident(node, german, incident_data(date_start="2025-07-10"))  # unshared: hidden from her
    assert page_default_as_of(node, analyst, dt.date(2026, 11, 29)) == dt.date(2025, 3, 1)
    assert page_default_as_of(node, german, dt.date(2026, 11, 29)) == dt.date(2025, 7, 1)
    assert page_default_as_of(node, analyst, dt.date(2025, 2, 20)) == dt.date(2025, 1, 1)


def test_a_signal_rests_only_on_incidents_its_reader_may_read(client: TestClient, node: Node) -> None:
    """Germany's unshared incidents escalate; Germany's officer sees the signal, France's officer does not."""
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    german = Principal(None, "olga", "officer", "DE")
    last = dt.date(2025, 6, 1)
    for back in range(1, 25):
        month = add_months(last, -back)
        if back % 3 == 0:
            data = incident_data(origin_countries=["RU"], date_start=month.replace(day=5).isoformat())
            incidents.create_incident(node, german, data)
    for day in range(1, 9):
        data = incident_data(origin_countries=["RU"], date_start=last.replace(day=day).isoformat())
        incidents.create_incident(node, german, data)
    sessions = {}
    for username in ("olga", "fabien"):
        client.cookies.clear()
        sign_in(client, username)
        sessions[username] = httpx.Cookies(client.cookies)
    client.cookies = sessions["olga"]
    seen = words(client, "/app/monitoring?as_of=2025-06")
    assert "Russia" in seen
    assert 'href="/app/states/RU"' in seen
    client.cookies = sessions["fabien"]
    unseen = words(client, "/app/monitoring?as_of=2025-06")
    assert "<strong>No signals</strong> in June 2025." in unseen
    assert "Russia" not in unseen
