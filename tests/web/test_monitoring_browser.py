"""The monitoring page and a state profile in Chromium, on the demo data: the charts draw (a canvas each) from this
site alone under the pages' CSP, no script error, and axe finds nothing serious. Screenshots at 1280 px wide when
TNRWATCH_SCREENSHOTS names a folder. SQLite (the pages do not depend on the database)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tnrwatch.crypto import totp
from tnrwatch.services import accounts, demo, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from .browser import serious_axe_violations
from .conftest import serving

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(os.environ["TNRWATCH_SCREENSHOTS"]) if os.environ.get("TNRWATCH_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, str]]:
    home = tmp_path_factory.mktemp("monitoring")
    database = home / "monitoring.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(home=home / "home", database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    node = Node.open(settings)
    operator = Principal.operator()
    demo.seed_demo(node, operator, 5000, 1)
    accounts.add_account(node, operator, "ana", "analyst")
    enrolment = staff_auth.set_password(node, operator, "ana", PASSWORD)
    assert enrolment is not None
    with serving(create_app(settings, node)) as url:
        yield url, enrolment.secret
    node.close()


def signed_in(browser: Any, url: str, secret: str) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
    return context, page, requests, problems


def shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_the_monitoring_page_and_a_state_profile_draw_their_charts(browser: Any, served: tuple[str, str]) -> None:
    url, secret = served
    context, page, requests, problems = signed_in(browser, url, secret)

    page.goto(url + "/app/monitoring")
    charts = page.locator(".staff-signal .staff-chart")
    assert charts.count() >= 1
    for index in range(charts.count()):
        charts.nth(index).locator("canvas").wait_for(timeout=30_000)
    assert page.locator("h2", has_text="Uzbekistan → Türkiye").count() == 1
    assert page.locator("#chart-status").inner_text() == ""
    # The table alternative opens.
    first = page.locator(".staff-signal details").first
    first.locator("summary").click()
    assert first.locator("tbody tr").count() > 12
    assert serious_axe_violations(page) == []
    shot(page, "monitoring.png")

    # From a signal to the origin's profile.
    page.locator("a[href='/app/states/UZ']").first.click()
    page.wait_for_url("**/app/states/UZ")
    for chart in ("#profile-timeline", "#profile-hosts", "#profile-targets"):
        page.locator(f"{chart} canvas").wait_for(timeout=30_000)
    assert "Uzbekistan" in page.locator("h1").inner_text()
    assert serious_axe_violations(page) == []
    shot(page, "state.png")

    page.goto(url + "/app/states")
    page.locator("a[href='/app/states/CN']").wait_for()
    assert serious_axe_violations(page) == []
    shot(page, "states.png")

    page.goto(url + "/app/monitoring?as_of=2019-05")  # a month without signals
    page.locator(".staff-counts", has_text="No signals").wait_for()
    assert serious_axe_violations(page) == []
    shot(page, "monitoring-none.png")
    context.close()

    assert problems == []
    assert [address for address in requests if not address.startswith(url)] == []
