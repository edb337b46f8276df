"""Notes and tasks in a real browser: a supervisor unlocks a report, adds a note and a task (encrypted in the page),
reloads, sees them as "encrypted" until unlocking again, then reads them; marks the task done; reads the notification
page. Then the database files are searched for the note's text: zero hits. Screenshots of the case page's section and
the notifications page land in the test's temporary directory (TNRWATCH_SCREENSHOTS=dir keeps copies)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tnrwatch.services import accounts, notifications, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings
from tnrwatch.store.models import Report
from tnrwatch.web.app import create_app

from ..services.test_reports import send_report
from .browser import serious_axe_violations
from .conftest import serving
from .test_staff_pages import OPERATOR, PASSPHRASE, PASSWORD, TOTP_SECRETS, add_key, current_code, make_officer

pytestmark = pytest.mark.browser

NOTE = "NOTE-CANARY-3a7c مذكرة: the reporter's cousin was approached at the consulate"
TASK = "TASK-CANARY-ask the police liaison about the car"


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Node]]:
    """The app on a loopback port over its own SQLite file, with a supervisor of DE (who has a key) and an officer."""
    home = tmp_path / "home"
    home.mkdir()
    database = home / "notes.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{database}",
        sqlite_synchronous="NORMAL",
        report_pow_bits=4,
        key_wrap_strength="interactive",
    )
    node = Node.open(settings)
    accounts.add_account(node, OPERATOR, "sabine", "supervisor", jurisdiction="DE")
    enrolment = staff_auth.set_password(node, OPERATOR, "sabine", PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS["sabine"] = enrolment.secret
    add_key(node, "sabine", "DE")
    make_officer(node, "petra", "DE")
    with serving(create_app(settings, node)) as url:
        yield url, node
    node.close()


def unlock(page: Any) -> None:
    page.fill("#passphrase", PASSPHRASE)
    page.locator("#unlock-form button").click()
    page.locator("#note-form").wait_for(state="visible", timeout=30_000)


def shoot(page: Any, locator: Any, path: Path) -> None:
    locator.screenshot(path=str(path))
    keep = os.environ.get("TNRWATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def test_notes_and_tasks_are_encrypted_in_the_page_and_read_after_unlocking(
    browser: Any, served: tuple[str, Node], tmp_path: Path
) -> None:
    url, node = served
    intake = Intake(node)
    report_id = send_report(intake, "DE", urgent=True).report_id  # Sabine is told
    late = send_report(intake, "DE").report_id
    with node.store.writing() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        session.execute(update(Report).where(Report.id == late).values(acknowledge_by=past))
    assert notifications.notify_overdue(node) == 1

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(url + "/app/sign-in")
    page.fill("#username", "sabine")
    page.fill("#password", PASSWORD)
    page.fill("#code", current_code("sabine"))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/app/reports")
    assert page.locator(".staff-badge").inner_text().startswith("2")

    page.goto(f"{url}/app/reports/{report_id}")
    page.locator("#no-notes").wait_for(state="visible")
    assert page.locator("#note-form").is_hidden()  # nothing can be written before the key is unlocked
    unlock(page)
    page.fill("#note-text", NOTE)
    page.locator("#note-form button").click()
    page.locator("#note-list").get_by_text(NOTE).wait_for(timeout=30_000)
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    page.fill("#task-title", TASK)
    page.select_option("#task-assignee", "petra")
    page.fill("#task-due", yesterday)
    page.locator("#task-form button").click()
    page.locator("#task-list").get_by_text(TASK).wait_for(timeout=30_000)
    assert page.locator("#task-list .staff-task-overdue").count() == 1
    assert serious_axe_violations(page) == []
    shoot(page, page.locator("#case-notes"), tmp_path / "case-notes-unlocked.png")

    # After a reload the page holds no key: the list shows what is in the clear, and "encrypted" for the rest.
    page.reload()
    page.locator("#task-list li").first.wait_for()
    locked = page.locator("#case-notes").inner_text()
    assert "Encrypted task" in locked
    assert "Encrypted note" in locked
    assert "given to petra" in locked
    assert "overdue" in locked.lower()  # the flag is set in capitals by the style sheet
    assert NOTE not in page.content()
    assert TASK not in page.content()
    shoot(page, page.locator("#case-notes"), tmp_path / "case-notes-locked.png")
    unlock(page)
    page.locator("#note-list").get_by_text(NOTE).wait_for(timeout=30_000)
    page.locator("#task-list").get_by_text(TASK).wait_for()
    # Sabine gives it to herself instead of Petra, then marks it done.
    page.locator("#task-list select").select_option("sabine")
    page.locator("#task-list .staff-give button").click()
    page.locator("#task-list").get_by_text("given to sabine").wait_for(timeout=30_000)
    page.locator("#task-list button", has_text="Mark as done").click()
    page.locator("#no-tasks").wait_for(state="visible")
    assert (page.locator("#done-list").text_content() or "").count("done by sabine") == 1

    page.goto(url + "/app/notifications")
    table = page.locator("table.staff-notifications").inner_text().lower()
    assert "urgent report received" in table
    assert "acknowledgement overdue" in table
    assert serious_axe_violations(page) == []
    shoot(page, page.locator("main"), tmp_path / "notifications.png")
    page.locator("form[action='/app/notifications/read'] button").click()
    page.wait_for_url("**/app/notifications")
    assert page.locator(".staff-badge").count() == 0
    context.close()

    # The database, its WAL and its shared memory hold no plaintext of the note or the task.
    needles = [NOTE.encode(), NOTE.encode("utf-16-le"), TASK.encode(), "مذكرة".encode()]
    files = [path for path in node.settings.home.glob("notes.sqlite3*") if path.is_file()]
    assert files
    hits = [(path.name, needle) for path in files for needle in needles if needle in path.read_bytes()]
    assert hits == []
