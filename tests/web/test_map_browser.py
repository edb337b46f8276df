"""The map page in Chromium: the shapes, the choropleth, flows, points and the charts draw from this site alone under
the page's CSP; the view lives in the address (filters, layers and the slider's month reload as they were); clicking
a country, a flow arc or a chart's bar filters everything; the slider and Play change the map in place; the points
layer draws place-level locations and never an obfuscated one; the exports hold the filter's incidents; the PNG is a
PNG; and axe finds nothing serious. SQLite (the page does not depend on the database)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tnrwatch.crypto import totp
from tnrwatch.services import accounts, incidents, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from ..factories import incident_data
from .browser import serious_axe_violations
from .conftest import serving

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(os.environ["TNRWATCH_SCREENSHOTS"]) if os.environ.get("TNRWATCH_SCREENSHOTS") else None
TIMEOUT = 30_000

BERLIN = {"country": "DE", "geo_precision": "place", "place": "Berlin", "lat": 52.52, "lon": 13.40}
HAMBURG = {"country": "DE", "geo_precision": "place", "place": "Hamburg", "lat": 53.55, "lon": 9.99}
PARIS = {"country": "FR", "geo_precision": "point", "lat": 48.857, "lon": 2.352}
MUNICH_HIDDEN = {"country": "DE", "geo_precision": "point", "lat": 48.14, "lon": 11.58, "obfuscated": True}
STOCKHOLM = {"country": "SE", "geo_precision": "place", "place": "Stockholm", "lat": 59.33, "lon": 18.07}
LONDON = {"country": "GB", "geo_precision": "place", "place": "London", "lat": 51.51, "lon": -0.13}


def country(code: str) -> dict[str, Any]:
    return {"country": code, "geo_precision": "country"}


# (origin, location, month of 2025, tactic, target category): a small node that looks like the demo.
INCIDENTS = [
    ("CN", BERLIN, 1, "spyware", "journalist"),
    ("CN", PARIS, 2, "family_threats", "activist"),
    ("RU", country("LV"), 2, "assault", "dissident"),
    ("RU", MUNICH_HIDDEN, 3, "threats", "journalist"),
    ("CN", HAMBURG, 3, "interpol_red_notice", "hrd"),
    ("IR", LONDON, 4, "threats", "journalist"),
    ("TR", STOCKHOLM, 4, "interpol_red_notice", "dissident"),
    ("IR", country("NL"), 5, "spyware", "hrd"),
    ("RW", country("BE"), 5, "abduction", "dissident"),
    ("CN", country("NL"), 6, "online_harassment", "diaspora_member"),
    ("RU", country("FR"), 6, "spyware", "journalist"),
    ("EG", country("IT"), 6, "family_pressure", "activist"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, str, Node]]:
    home = tmp_path_factory.mktemp("map")
    database = home / "map.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(home=home / "home", database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    node = Node.open(settings)
    operator = Principal.operator()
    for origin, location, month, tactic, target in INCIDENTS:
        data = incident_data(
            origin_countries=[origin],
            locations=[location],
            date_start=f"2025-{month:02d}-10",
            tactics=[tactic],
            target_categories=[target],
        )
        incidents.create_incident(node, operator, data)
    accounts.add_account(node, operator, "ana", "analyst")
    enrolment = staff_auth.set_password(node, operator, "ana", PASSWORD)
    assert enrolment is not None
    with serving(create_app(settings, node)) as url:
        yield url, enrolment.secret, node
    node.close()


@pytest.fixture(scope="module")
def signed_in(browser: Any, served: tuple[str, str, Node]) -> dict[str, Any]:
    """The analyst's session, signed in once per module: a TOTP code is accepted once, and the tests of a module
    would otherwise sign in within the same 30 seconds."""
    url, secret, _ = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/app/sign-in")
    page.fill("#username", "ana")
    page.fill("#password", PASSWORD)
    page.fill("#code", totp.code_at(secret, dt.datetime.now(dt.UTC)))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/app/reports")
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


class Watched:
    """A signed-in page, with every request it made and every error it printed."""

    def __init__(self, browser: Any, url: str, state: dict[str, Any]) -> None:
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 1000}, accept_downloads=True, storage_state=state
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.url = url

    def close(self) -> None:
        self.context.close()
        # Nothing leaves the site: every request is this server's (or the page's own PNG, made in the browser).
        foreign = [a for a in self.requests if not a.startswith(self.url) and not a.startswith("blob:" + self.url)]
        assert foreign == []
        assert self.problems == []


@pytest.fixture
def watched(browser: Any, served: tuple[str, str, Node], signed_in: dict[str, Any]) -> Iterator[Watched]:
    session = Watched(browser, served[0], signed_in)
    yield session
    session.close()


def counts_text(page: Any) -> str:
    return " ".join(page.locator("#map-counts").inner_text().split())


def drawn(page: Any, text: str) -> None:
    page.locator("#map-status", has_text=text).wait_for(timeout=TIMEOUT)


def open_map(page: Any, address: str) -> None:
    page.goto(address)
    drawn(page, "incidents drawn")
    for chart in ("timeline", "pairs-chart", "tactics-chart", "targets-chart"):
        page.locator(f"#{chart} canvas").wait_for(timeout=TIMEOUT)


def click_lat_lon(page: Any, lat: float, lon: float) -> None:
    """Click the map where (lat, lon) lies on the screen (the map draws on a canvas: no element to click)."""
    script = "(([lat, lon]) => { const p = document.getElementById('map').tnrMap.latLngToContainerPoint([lat, lon]);"
    at = page.evaluate(script + f" return [p.x, p.y]; }})([{lat}, {lon}])")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + at[0], box["y"] + at[1])


def click_flow(page: Any, origin: str, host: str) -> None:
    """Click the middle of the origin -> host arc."""
    at = page.evaluate(
        """(([origin, host]) => {
          const map = document.getElementById('map').tnrMap;
          let found = null;
          map.eachLayer((layer) => {
            if (layer.options && layer.options.className === `map-flow map-flow-${origin}-${host}`) found = layer;
          });
          const points = found.getLatLngs();
          const p = map.latLngToContainerPoint(points[Math.floor(points.length / 2)]);
          return [p.x, p.y];
        })"""
        + f"({json.dumps([origin, host])})"
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + at[0], box["y"] + at[1])


def click_bar(page: Any, chart: str, field: str, value: str) -> None:
    """Click the middle of the bar whose datum has `field` == `value`, found in the chart's Vega scenegraph."""
    at = page.evaluate(
        """(([chart, field, value]) => {
          const view = document.getElementById(chart).vegaView;
          const [ox, oy] = view.origin();
          let hit = null;
          function walk(item, x, y) {
            if (hit) return;
            if (item.mark && item.mark.marktype === 'rect' && item.mark.role === 'mark' && item.datum
                && item.datum[field] === value) {
              hit = [x + item.x + item.width / 2, y + item.y + item.height / 2];
              return;
            }
            const gx = item.mark && item.mark.marktype === 'group' ? x + (item.x || 0) : x;
            const gy = item.mark && item.mark.marktype === 'group' ? y + (item.y || 0) : y;
            for (const child of item.items || []) walk(child, gx, gy);
          }
          walk(view.scenegraph().root, ox, oy);
          return hit;
        })"""
        + f"({json.dumps([chart, field, value])})"
    )
    assert at is not None, f"no bar for {field}={value} in {chart}"
    canvas = page.locator(f"#{chart} canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + at[0], box["y"] + at[1])


def test_the_map_draws_everything_from_this_site_and_axe_finds_nothing_serious(watched: Watched) -> None:
    page = watched.page
    open_map(page, watched.url + "/app/map")
    drawn(page, "12 incidents drawn by host state, with the largest origin → host flows and clustered points")
    assert "12 incidents match" in counts_text(page)
    assert page.locator("#map canvas").count() >= 1  # countries and flows: one canvas
    assert page.locator("#map .marker-cluster, #map .map-point").count() >= 1
    assert "5 locations drawn as points" in page.locator("#map-points-note").inner_text()  # Munich is obfuscated
    assert "count in their country" in page.locator("#map-points-note").inner_text()
    assert page.locator("#incidents-table tbody tr").count() == 12
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)
    for summary in page.locator("details.map-details summary").all():
        summary.click()  # axe reads the tables too
    assert serious_axe_violations(page) == []


def test_the_address_reproduces_the_view_with_its_month_and_layers(watched: Watched) -> None:
    page = watched.page
    address = watched.url + "/app/map?origin=CN&layer=origin&flows=1&month=2025-03"
    open_map(page, address)
    drawn(page, "1 incidents drawn by origin state in 2025-03, with the largest origin → host flows.")
    assert "1 incident match in 2025-03 (the map shows one month; 4 in the whole period)" in counts_text(page)
    assert page.locator("#map-month-label").inner_text() == "2025-03"
    assert page.locator("#filter-origin").input_value() == "CN"
    assert not page.locator("input[name=points]").is_checked()
    assert page.locator("#map .map-point, #map .marker-cluster").count() == 0  # the points layer is off
    assert page.get_by_role("link", name="Remove the filter Origin: China").is_visible()

    # Switching a layer in place writes it into the address: a reload shows the same.
    page.locator("input[name=layer][value=host]").check()
    drawn(page, "by host state in 2025-03")
    page.locator("input[name=points]").check()
    drawn(page, "and clustered points")
    assert "layer=host" in page.url
    assert "points=1" in page.url
    assert "month=2025-03" in page.url
    page.reload()
    drawn(page, "1 incidents drawn by host state in 2025-03, with the largest origin → host flows and clustered points")

    # A chip removes its filter.
    page.get_by_role("link", name="Remove the filter Origin: China").click()
    drawn(page, "2 incidents drawn by host state in 2025-03")
    assert "origin=" not in page.url

    # A filter nothing matches draws an empty map and says so instead of empty charts.
    page.goto(watched.url + "/app/map?tlp=red")
    drawn(page, "0 incidents drawn")
    assert page.locator("#tactics-chart").inner_text() == "Nothing to chart: no incident matches."


def test_the_slider_and_play_change_the_map_in_place(watched: Watched) -> None:
    page = watched.page
    open_map(page, watched.url + "/app/map")
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    slider = page.locator("#map-month")
    slider.focus()
    page.keyboard.press("ArrowRight")  # all months -> January
    drawn(page, "drawn by host state in 2025-01")
    page.keyboard.press("ArrowRight")  # January -> February
    drawn(page, "2 incidents drawn by host state in 2025-02")
    assert "2 incidents match in 2025-02" in counts_text(page)
    assert "month=2025-02" in page.url
    assert page.locator("#map-month-label").inner_text() == "2025-02"
    assert page.locator("#map-table-hosts tbody tr").count() == 2  # France and Latvia

    page.locator("#map-play").click()
    assert page.locator("#map-play").get_attribute("aria-pressed") == "true"
    drawn(page, "3 incidents drawn by host state in 2025-06")
    page.locator("#map-play[aria-pressed=false]").wait_for(timeout=TIMEOUT)  # it stops at the last month
    assert "month=2025-06" in page.url
    assert loads == []  # every frame in place

    page.reload()
    drawn(page, "3 incidents drawn by host state in 2025-06")
    page.locator("#map-all-months").click()
    drawn(page, "12 incidents drawn by host state,")
    assert "month=" not in page.url
    assert slider.input_value() == "-1"  # the slider stands before the first month again


def test_clicking_a_country_a_flow_or_a_bar_filters_everything(watched: Watched) -> None:
    page = watched.page
    open_map(page, watched.url + "/app/map?layer=host&flows=1")
    click_flow(page, "RU", "LV")
    page.wait_for_url("**origin=RU&host=LV**")
    drawn(page, "1 incidents drawn by host state")
    assert "1 incident match" in counts_text(page)

    open_map(page, watched.url + "/app/map?layer=host")  # no flows over Latvia
    # Close enough that the canvas's hit tolerance reaches no neighbour.
    page.evaluate("void document.getElementById('map').tnrMap.setView([57, 25], 6, { animate: false })")
    click_lat_lon(page, 56.9, 25.0)  # Latvia
    page.wait_for_url("**host=LV**")
    drawn(page, "1 incidents drawn by host state")

    open_map(page, watched.url + "/app/map")
    click_bar(page, "tactics-chart", "value", "digital")
    page.wait_for_url("**tactic_family=digital**")
    drawn(page, "4 incidents drawn")
    click_bar(page, "pairs-chart", "label", "China → Netherlands")
    page.wait_for_url("**origin=CN&host=NL**")
    drawn(page, "1 incidents drawn")

    # The same filters as links, for the keyboard: the timeline's table.
    open_map(page, watched.url + "/app/map")
    page.locator("details.map-details summary", has_text="timeline").click()
    page.get_by_role("link", name="2025-04").click()
    page.wait_for_url("**date_from=2025-04-01&date_to=2025-04-30**")
    drawn(page, "2 incidents drawn")


def test_points_show_place_level_locations_and_never_an_obfuscated_one(watched: Watched) -> None:
    page = watched.page
    open_map(page, watched.url + "/app/map?origin=CN&origin=RU")
    page.evaluate("void document.getElementById('map').tnrMap.setView([51, 10], 6, { animate: false })")
    from playwright.sync_api import expect  # only browser tests need Playwright

    expect(page.locator("#map .map-point")).to_have_count(3, timeout=TIMEOUT)  # Berlin, Hamburg, Paris apart
    # The view change fetches the points again and redraws the markers: click only once that has settled, or the
    # click may land on a marker that is being replaced (its popup then never opens).
    page.wait_for_load_state("networkidle")
    where = page.evaluate(
        """(() => {
          const found = [];
          document.getElementById('map').tnrMap.eachLayer((layer) => {
            if (layer instanceof L.Marker && !layer.getChildCount) {
              found.push([layer.getLatLng().lat, layer.getLatLng().lng]);
            }
          });
          return found;
        })()"""
    )
    assert [52.52, 13.4] in where
    assert [53.55, 9.99] in where
    assert [48.14, 11.58] not in where  # Munich was obfuscated for safety: its country only
    page.get_by_role("button", name="Incident of 2025-01-10").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=TIMEOUT)
    assert "Spyware" in popup.inner_text()
    assert "2025-01-10" in popup.inner_text()
    assert "Berlin" not in popup.inner_text()  # no place name, no title
    assert popup.get_by_role("link").get_attribute("href").startswith("/app/incidents/")


def test_the_exports_hold_the_filter_and_the_png_is_a_png(watched: Watched) -> None:
    page = watched.page
    open_map(page, watched.url + "/app/map?origin=RU")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 3
    assert {row["origin_countries"] for row in rows} == {"RU"}
    with page.expect_download() as geojson_download:
        page.get_by_role("link", name="GeoJSON").click()
    collection = json.loads(Path(geojson_download.value.path()).read_text(encoding="utf-8"))
    assert len(collection["features"]) == 3
    hidden = [f for f in collection["features"] if f["properties"]["obfuscated"]]
    assert len(hidden) == 1
    assert hidden[0]["geometry"] is None
    with page.expect_download() as png_download:
        page.get_by_role("button", name="PNG of the map").click()
    png = Path(png_download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    size = page.evaluate(
        "(() => { const s = document.getElementById('map').tnrMap.getSize(); return [s.x, s.y, devicePixelRatio]; })()"
    )
    assert (width, height) == (round(size[0] * size[2]), round(size[1] * size[2]))  # the map as seen
    assert png_download.value.suggested_filename == "tnrwatch-map.png"
