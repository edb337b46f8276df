"""The liaison's desk in Chromium, the issue's demo: the registry holds "Дильноза Рахимова", a red notice from
Uzbekistan says "RAKHIMOVA Dilnoza" with an extremism charge. The liaison finds the notices from the bar, enters the
notice through the form (first with mistakes, which are named beside their fields and lose nothing; a second charge
row added without script), reaches the vetting sheet with the match, its explanation and the Article 3 red flag,
downloads the PDF, and finds the notice at the top of the list, without its subject. The pages carry no script at
all, axe finds nothing serious on any of them, and every request stays on this site. SQLite (the pages do not depend
on the database backend)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tnrwatch.crypto import totp
from tnrwatch.services import accounts, notices, registry, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from .browser import serious_axe_violations
from .conftest import serving

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(os.environ["TNRWATCH_SCREENSHOTS"]) if os.environ.get("TNRWATCH_SCREENSHOTS") else None
EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
TIMEOUT = 15_000


class Served:
    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("notices")
    database = home / "notices.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        home=home / "home",
        database_url=f"sqlite:///{database}",
        sqlite_synchronous="NORMAL",
        cookie_secure=False,  # plain http on loopback
    )
    node = Node.open(settings)
    operator = Principal.operator()
    registry.import_registry(node, Principal(None, "olga", "officer", "DE"), EXAMPLES / "registry.json", synthetic=True)
    accounts.add_account(node, operator, "lena", "liaison")
    enrolment = staff_auth.set_password(node, operator, "lena", PASSWORD)
    assert enrolment is not None
    liaison = Principal(None, "lena", "liaison")
    today = dt.date.today()
    # Two notices already on the desk: one overdue, one decided.
    notices.create_notice(
        node,
        liaison,
        {"notice_type": "diffusion", "requesting_state": "TJ", "name": "NAZAROV", "forename": "Zafar",
         "received": str(today - dt.timedelta(days=12)), "decision_due": str(today - dt.timedelta(days=2)),
         "arrest_warrants": [{"issuing_country_id": "TJ", "charge": "Participation in an extremist organisation"}]},
    )  # fmt: skip
    decided = notices.create_notice(
        node,
        liaison,
        {"notice_type": "extradition_request", "requesting_state": "TR", "name": "YILDIZ",
         "received": str(today - dt.timedelta(days=40)), "decision_due": str(today - dt.timedelta(days=10))},
    )  # fmt: skip
    notices.decide(node, liaison, decided.id, {"decision": "do_not_act", "reasons": "Recognised refugee."})
    with serving(create_app(settings, node)) as url:
        yield Served(url, enrolment.secret)
    node.close()


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(served.url + "/app/sign-in")
    page.fill("#username", "lena")
    page.fill("#password", PASSWORD)
    page.fill("#code", totp.code_at(served.secret, dt.datetime.now(dt.UTC)))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/app/notices")
    yield page
    context.close()
    assert [address for address in requests if not address.startswith(served.url + "/")] == []
    # The form with mistakes comes back as 422 on purpose; Chromium reports any 4xx document in the console.
    assert [p for p in problems if "status of 422" not in p] == []


def look(page: Any, name: str) -> None:
    """Screenshot the page (when TNRWATCH_SCREENSHOTS names a folder), check it runs no script, and run axe."""
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert page.locator("script").count() == 0, name  # so it works as well without JavaScript
    assert serious_axe_violations(page) == [], name


@pytest.mark.browser
def test_the_liaison_enters_the_demo_notice_and_reads_its_vetting_sheet(page: Any) -> None:
    page.get_by_role("link", name="Notices").click()
    page.wait_for_url("**/app/notices")
    rows = page.locator("table.staff-notices tbody tr")
    assert rows.count() == 2
    assert "Overdue" in rows.nth(0).text_content()
    assert "Do not act" in rows.nth(1).inner_text()
    assert "NAZAROV" not in page.content()

    page.get_by_role("link", name="Enter a notice").click()
    page.wait_for_url("**/app/notices/new")
    page.select_option("#f-notice_type", "red_notice")
    page.fill("#f-interpol_reference", "31842")
    page.fill("#f-requesting_state", "Uzbekistan")
    page.fill("#f-forename", "Dilnoza")
    page.fill("#f-dob_year", "1986")
    page.fill("#f-dob_month", "3")
    page.check("input[name=sex][value=F]")
    page.fill("#f-nationalities", "UZ")
    page.fill("#f-charges-0-charge", "Extremism; production and distribution of materials threatening public security")
    page.fill("#f-charges-0-charge_translation", "Экстремизм")
    page.get_by_role("button", name="Add another charge").click()
    page.wait_for_selector("#f-charges-1-charge")
    assert page.input_value("#f-charges-0-charge_translation") == "Экстремизм"  # a row added loses nothing
    page.get_by_role("button", name="Save and open the vetting sheet").click()
    page.wait_for_selector("#notice-errors")
    summary = page.locator("#notice-errors").inner_text()
    assert "3 fields to correct" in summary
    for label in ("Interpol reference", "Requesting state", "Name"):
        assert label in summary
    assert page.locator("#e-interpol_reference").inner_text().startswith("'31842' is not an Interpol reference")
    assert page.input_value("#f-forename") == "Dilnoza"
    assert page.input_value("#f-dob_month") == "3"
    assert page.input_value("#f-charges-0-charge_translation") == "Экстремизм"
    assert page.locator("#f-interpol_reference").get_attribute("aria-invalid") == "true"
    look(page, "notice-form-errors")

    page.fill("#f-interpol_reference", "2025/31842")
    page.fill("#f-requesting_state", "UZ")
    page.fill("#f-name", "RAKHIMOVA")
    page.press("#f-name", "Enter")  # Enter saves (the hidden default button), it does not add a row
    page.wait_for_url(re.compile(r".*/app/notices/[0-9a-f-]{36}$"))

    assert page.locator("h1").inner_text() == "Vetting sheet"
    assert "Recommended action: Do not act pending review" in page.locator("#recommendation-title").inner_text()
    registry_row = page.locator("section[aria-labelledby=registry-title] tbody tr")
    assert registry_row.count() >= 1
    match = registry_row.first.inner_text()
    assert "hrd" in match
    assert "focal point DE" in match
    assert "UZ (the requesting state)" in match
    assert "name agrees" in match  # the explanation: which features agreed
    assert "date of birth agrees" in match
    flags = page.locator("section[aria-labelledby=flags-title]").inner_text()
    assert "Charge of extremism" in flags
    assert "Article 3" in flags
    assert "Дильноза" not in page.content()  # the registry's own writing of the name stays in the vault
    look(page, "notice-sheet")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == "vetting-sheet-2025-31842.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="All notices").click()
    page.wait_for_url("**/app/notices")
    first = page.locator("table.staff-notices tbody tr").first.inner_text()
    assert first.split()[:3] == ["2025/31842", "Red", "notice"]  # received today: the newest
    assert "RAKHIMOVA" not in page.content()
    look(page, "notices-list")
