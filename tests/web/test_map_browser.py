"""The map page in Chromium: the shapes, the choropleth, flows and the timeline draw from this site alone under the
page's CSP, the view lives in the address (a filter and a layer reload as they were), clicking a country filters by
it, and axe finds nothing serious. SQLite (the page does not depend on the database)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
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


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, str]]:
    database = tmp_path / "map.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    node = Node.open(settings)
    operator = Principal.operator()
    for origin, host, month in (("CN", "DE", 1), ("CN", "FR", 2), ("RU", "LV", 2), ("RU", "DE", 3), ("CN", "DE", 3)):
        located = [{"country": host, "geo_precision": "country"}]
        data = incident_data(origin_countries=[origin], locations=located, date_start=f"2025-{month:02d}-10")
        incidents.create_incident(node, operator, data)
    accounts.add_account(node, operator, "ana", "analyst")
    enrolment = staff_auth.set_password(node, operator, "ana", PASSWORD)
    assert enrolment is not None
    with serving(create_app(settings, node)) as url:
        yield url, enrolment.secret
    node.close()


def test_the_map_draws_from_this_site_keeps_its_view_in_the_address_and_filters_on_click(
    browser: Any, served: tuple[str, str]
) -> None:
    url, secret = served
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url + "/app/sign-in")
    page.fill("#username", "ana")
    page.fill("#password", PASSWORD)
    page.fill("#code", totp.code_at(secret, dt.datetime.now(dt.UTC)))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/app/reports")

    page.goto(url + "/app/map")
    page.locator("#map-status", has_text="incidents drawn by host state").wait_for(timeout=30_000)
    assert page.locator("#map path.leaflet-interactive").count() > 200  # the country shapes, and the flows
    page.locator("#timeline canvas").wait_for(timeout=30_000)
    assert "5 incidents match" in " ".join(page.locator(".staff-counts").inner_text().split())
    assert serious_axe_violations(page) == []
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)

    # The filter form writes the view into the address; the same address shows the same view.
    page.select_option("#filter-origin", "RU")
    page.locator("input[name=layer][value=origin]").check()
    page.locator("form.staff-filters button[type=submit]").click()
    page.locator("#map-status", has_text="by origin state").wait_for(timeout=30_000)
    address = page.url
    assert "origin=RU" in address
    assert "layer=origin" in address
    assert "2 incidents match" in " ".join(page.locator(".staff-counts").inner_text().split())
    again = context.new_page()
    again.goto(address)
    again.locator("#map-status", has_text="2 incidents drawn by origin state").wait_for(timeout=30_000)
    assert again.locator("#filter-origin").input_value() == "RU"

    # The other filters work the same way: a marking none of these incidents has leaves nothing.
    page.goto(url + "/app/map")
    page.select_option("#filter-tlp", "red")
    page.locator("form.staff-filters button[type=submit]").click()
    page.locator("#map-status", has_text="0 incidents drawn").wait_for(timeout=30_000)
    assert "tlp=red" in page.url

    # Clicking a coloured country filters the page by it: Latvia (ISO 3166 numeric 428) as a host.
    page.goto(url + "/app/map?layer=host")
    page.locator("#map-status", has_text="by host state").wait_for(timeout=30_000)
    page.locator("#map path.staff-country-428").click()
    page.wait_for_url("**host=LV**")
    page.locator("#map-status", has_text="1 incidents drawn by host state").wait_for(timeout=30_000)
    assert "1 incident match" in " ".join(page.locator(".staff-counts").inner_text().split())
    context.close()

    assert problems == []
    assert [address for address in requests if not address.startswith(url)] == []
