"""The pages in a real browser (Debian's Chromium driven by Playwright): they render, load nothing from any other
origin, run under the strict CSP without errors, and pass axe-core with no serious or critical violation.

Without Chromium these tests skip with the reason printed; with TNRWATCH_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .browser import serious_axe_violations

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("TNRWATCH_SCREENSHOTS", "")) if os.environ.get("TNRWATCH_SCREENSHOTS") else None


@pytest.fixture
def browser_page(browser: Any, live_server: str) -> Iterator[Any]:
    page = browser.new_page()
    yield page
    page.close()


def _visit(page: Any, url: str) -> tuple[list[str], list[str]]:
    """Load `url`; return every requested URL and every console error or CSP violation."""
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url, wait_until="networkidle")
    return requested, problems


PUBLIC_PAGES = ["/", "/report", "/report/plain", "/follow-up", "/report?lang=ar", "/follow-up?lang=fa"]


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/api/v1/docs", "/app/sign-in"])
def test_page_loads_only_from_its_own_origin(browser_page: Any, live_server: str, path: str) -> None:
    requested, problems = _visit(browser_page, live_server + path)
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in requested if not url.startswith("data:")}
    assert origins == {live_server}, f"third-party requests: {origins - {live_server}}"
    assert problems == [], f"console errors or CSP violations: {problems}"
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser_page.screenshot(
            path=str(SCREENSHOTS / f"{path.strip('/').replace('/', '_').replace('?', '_') or 'home'}.png"),
            full_page=True,
        )


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/app/sign-in"])
def test_public_pages_are_accessible(browser_page: Any, live_server: str, path: str) -> None:
    _visit(browser_page, live_server + path)
    assert serious_axe_violations(browser_page) == []


def test_api_docs_render_the_api(browser_page: Any, live_server: str) -> None:
    _visit(browser_page, live_server + "/api/v1/docs")
    browser_page.locator(".opblock-summary-path", has_text="/api/v1/incidents").first.wait_for(timeout=10000)
    assert browser_page.locator(".opblock").count() >= 8


def test_report_form_works_with_the_keyboard_alone(browser_page: Any, live_server: str) -> None:
    """Tab to each control, choose with the arrow keys and the space bar, move on with Enter; focus lands on each
    new step's heading, and a missing answer puts focus on its field with the error tied to it."""
    page = browser_page
    _visit(page, live_server + "/report")
    page.locator("#report-app").wait_for(state="visible")

    def focused() -> str:
        return str(page.evaluate("document.activeElement.id || document.activeElement.tagName"))

    page.locator("#jurisdiction").focus()
    page.keyboard.press("ArrowDown")  # the first focal point with a key
    while "next" not in str(page.evaluate("document.activeElement.className")):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#step-2").wait_for(state="visible")
    assert page.evaluate("document.activeElement.tagName") == "H2"

    page.keyboard.press("Tab")  # into the step: the first checkbox
    assert focused().startswith("family-")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # visible focus
    page.keyboard.press("Space")
    assert page.locator("#step-2 input[name=tactic_families]").first.is_checked()
    while "next" not in str(page.evaluate("document.activeElement.className")):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#step-3").wait_for(state="visible")
    assert page.evaluate("document.activeElement.tagName") == "H2"
