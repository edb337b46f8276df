"""The alert pages in Chromium: Germany's officer writes an AMBER alert from a case, reviews it and publishes it; the
EU analyst, subscribed beforehand, finds it in the alerts list and in the inbox (the server's embedded worker
delivers it), opens it and corroborates it; the subscriptions page and the delivery log. Every request stays on this
site, the pages print no error, and axe finds nothing serious on any of them. SQLite (the pages do not depend on the
database backend)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tnrwatch.crypto import totp
from tnrwatch.services import accounts, coding, incidents, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake
from tnrwatch.services.worker import EmbeddedWorker
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from ..factories import incident_data
from .browser import serious_axe_violations
from .conftest import serving
from .test_staff_pages import add_key, submit_report

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(os.environ["TNRWATCH_SCREENSHOTS"]) if os.environ.get("TNRWATCH_SCREENSHOTS") else None
TIMEOUT = 15_000
TITLE = "Consular pressure on Uzbek dissidents in Berlin"


class Served:
    def __init__(self, url: str, node: Node, report_id: str, secrets: dict[str, str]) -> None:
        self.url, self.node, self.report_id, self.secrets = url, node, report_id, secrets


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("alerts")
    database = home / "alerts.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        home=home / "home",
        database_url=f"sqlite:///{database}",
        sqlite_synchronous="NORMAL",
        report_pow_bits=0,
        key_wrap_strength="interactive",
        cookie_secure=False,  # plain http on loopback
        worker_poll_seconds=0.2,
    )
    node = Node.open(settings)
    operator = Principal.operator()
    secrets = {}
    for username, role, jurisdiction in (("olga", "officer", "DE"), ("ana", "analyst", None)):
        accounts.add_account(node, operator, username, role, jurisdiction=jurisdiction)
        enrolment = staff_auth.set_password(node, operator, username, PASSWORD)
        assert enrolment is not None
        secrets[username] = enrolment.secret
    add_key(node, "olga", "DE")
    report = submit_report(Intake(node), "DE")
    german = Principal(None, "olga", "officer", "DE")
    incident = incidents.create_incident(
        node,
        german,
        incident_data(tlp="amber", title="Officials visited a dissident's family", origin_countries=["UZ"]),
    )
    coding.link_incident(node, german, report.id, incident.id)
    # The delivery worker as `tnrwatch serve` runs it (an app given an open node leaves it to its caller).
    worker = EmbeddedWorker(node)
    worker.start()
    with serving(create_app(settings, node)) as url:
        yield Served(url, node, str(report.id), secrets)
    worker.stop()
    node.close()


class Session:
    """One account's browser context: every request it made and every error its pages printed."""

    def __init__(self, browser: Any, served: Served, username: str) -> None:
        self.url = served.url
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.goto(self.url + "/app/sign-in")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.fill("#code", totp.code_at(served.secrets[username], dt.datetime.now(dt.UTC)))
        self.page.locator("form button[type=submit]").click()
        self.page.wait_for_url("**/app/reports")

    def check(self, name: str) -> None:
        """Screenshot the page (when TNRWATCH_SCREENSHOTS names a folder) and run axe on it."""
        if SCREENSHOTS:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        assert serious_axe_violations(self.page) == [], name

    def close(self) -> None:
        self.context.close()
        assert [address for address in self.requests if not address.startswith(self.url)] == []
        assert self.problems == []


@pytest.fixture(scope="module")
def analyst(browser: Any, served: Served) -> Iterator[Session]:
    session = Session(browser, served, "ana")
    yield session
    session.close()


@pytest.fixture(scope="module")
def officer(browser: Any, served: Served) -> Iterator[Session]:
    session = Session(browser, served, "olga")
    yield session
    session.close()


def test_an_amber_alert_from_a_case_reaches_the_eu_analyst(officer: Session, analyst: Session, served: Served) -> None:
    """One story, in order (the analyst subscribes before the officer publishes): the steps below."""
    analyst_subscribes(analyst)
    officer_publishes(officer, served)
    analyst_receives(analyst)


def analyst_subscribes(analyst: Session) -> None:
    page = analyst.page
    page.goto(analyst.url + "/app/subscriptions")
    analyst.check("subscriptions")
    page.fill("#f-name", "Alerts from the focal points")
    page.locator("input[name=topics][value=incident]").uncheck()
    page.locator("#subscribe").click()
    page.locator("h3", has_text="Alerts from the focal points").wait_for(timeout=TIMEOUT)
    page.fill("#f-name", "")
    page.locator("#subscribe").click()  # refused: the name is missing, said beside the field
    page.locator("#e-name").wait_for(timeout=TIMEOUT)
    # The refusal is a 422, which the browser reports on the console: expected here, and only here.
    assert analyst.problems == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    analyst.problems.clear()
    analyst.check("subscriptions-refused")


def officer_publishes(officer: Session, served: Served) -> None:
    page = officer.page
    page.goto(f"{officer.url}/app/reports/{served.report_id}")
    page.locator("#alert-from-case").click()
    page.wait_for_url("**/app/alerts/new?case=*")
    assert page.locator("input[name=incident_ids]").is_checked()
    assert page.locator("#f-tlp").input_value() == "amber"
    assert page.locator("input[name=audience][value=eu]").is_checked()
    officer.check("alert-new")
    page.fill("#f-title", TITLE)
    page.fill("#f-summary", "Consular staff visited the families of three dissidents in one week.")
    page.locator("#save-draft").click()
    page.wait_for_url("**/app/alerts/*")
    assert "draft" in page.locator(".staff-alert-state").inner_text().lower()
    officer.check("alert-draft")
    page.locator("#review-publish").click()
    page.wait_for_url("**/publish")
    assert "the EU level" in page.locator(".staff-notice").inner_text()
    officer.check("alert-publish")
    page.locator("#publish-now").click()
    page.locator(".staff-alert-state", has_text="Published").wait_for(timeout=TIMEOUT)
    page.goto(officer.url + "/app/alerts")
    assert TITLE in page.locator("table").inner_text()
    officer.check("alerts-officer")


def analyst_receives(analyst: Session) -> None:
    page = analyst.page
    page.goto(analyst.url + "/app/alerts")
    page.locator("a", has_text=TITLE).click()
    page.wait_for_url("**/app/alerts/*")
    assert "TLP:AMBER" in page.locator(".staff-alert-state").inner_text()
    page.fill("#f-text", "Seen in Munich too, by the same consulate.")
    page.locator("#add-comment").click()
    page.locator(".staff-note", has_text="Seen in Munich too").wait_for(timeout=TIMEOUT)
    analyst.check("alert-received")
    deadline = time.monotonic() + 10  # the embedded worker fans the publication out within a moment
    while True:
        page.goto(analyst.url + "/app/inbox")
        if page.locator("a", has_text=TITLE).count() or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert page.locator("a", has_text=TITLE).count() == 1
    assert page.locator(".staff-badge").first.inner_text().startswith("1")
    analyst.check("inbox")
    page.locator("button", has_text="Mark read").click()
    page.wait_for_url("**/app/inbox*")
    assert page.locator(".staff-menu .staff-badge").count() == 0
    page.goto(analyst.url + "/app/deliveries")
    assert "Inbox" in page.locator("table").inner_text()
    analyst.check("deliveries")
