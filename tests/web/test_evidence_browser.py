"""The evidence section in a real browser: an officer unlocks a report with a file, registers the file as evidence
(decrypted and hashed in the page), adds a screenshot (encrypted in the page), views it (✓), and the custody log on
the page shows each step; nothing of the screenshot reaches the server in the clear."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tnrwatch.crypto import envelope, totp
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from .browser import serious_axe_violations
from .conftest import serving
from .test_staff_pages import (
    PASSPHRASE,
    PASSWORD,
    TOTP_SECRETS,
    SentReport,
    make_officer,
    proof,
    submit_report,
)

pytestmark = pytest.mark.browser

PHOTO = b"the reporter's photo " * 100
LETTER = b"%PDF-1.4 the letter the embassy sent " * 20
SCREENSHOTS = Path(os.environ["TNRWATCH_SCREENSHOTS"]) if os.environ.get("TNRWATCH_SCREENSHOTS") else None


def reporter_sends_a_file(intake: Intake, report: SentReport, name: str, content: bytes) -> None:
    """A later message from the reporter carrying a file, as their browser sends it."""
    message_id, attachment_id, file_key = uuid.uuid4(), uuid.uuid4(), envelope.new_key()
    sealer = envelope.FileSealer(file_key, envelope.attachment_context(report.id, attachment_id))
    ciphertext = sealer.feed(content) + sealer.finish()
    intake.start_upload(report.id, attachment_id, len(ciphertext), proof(intake))
    intake.append_upload(attachment_id, 0, ciphertext)
    entry = {
        "id": str(attachment_id),
        "name": name,
        "type": "application/pdf",
        "size": len(content),
        "sha256": sealer.sha256,
        "key": envelope.b64encode(file_key),
    }
    document = {"v": 1, "kind": "message", "text": "Here is the letter.", "attachments": [entry]}
    intake.add_message(
        lookup=report.lookup,
        message_id=message_id,
        ciphertext=envelope.encrypt_document(document, report.key, envelope.message_context(report.id, message_id)),
        attachments=[attachment_id],
        proof=proof(intake),
    )


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Node, SentReport]]:
    database = tmp_path / "evidence.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{database}",
        sqlite_synchronous="NORMAL",
        report_pow_bits=0,
        key_wrap_strength="interactive",
    )
    node = Node.open(settings)
    make_officer(node, "olga", "DE")
    intake = Intake(node)
    report = submit_report(intake, "DE", files={"photo.jpg": PHOTO})
    reporter_sends_a_file(intake, report, "letter.pdf", LETTER)
    with serving(create_app(settings, node)) as url:
        yield url, node, report
    node.close()


def test_an_officer_registers_adds_and_views_evidence(
    browser: Any, served: tuple[str, Node, SentReport], tmp_path: Path
) -> None:
    url, node, report = served
    shot = tmp_path / "threat.png"
    shot_bytes = b"\x89PNG\r\n\x1a\n" + os.urandom(3000) + b"EVIDENCE-CANARY-7c1d"
    shot.write_bytes(shot_bytes)
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(url + "/app/sign-in")
    page.fill("#username", "olga")
    page.fill("#password", PASSWORD)
    page.fill("#code", totp.code_at(TOTP_SECRETS["olga"], dt.datetime.now(dt.UTC)))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/app/reports")
    page.goto(f"{url}/app/reports/{report.id}")
    page.locator("#evidence-list").get_by_text("No evidence yet.").wait_for()
    page.fill("#passphrase", PASSPHRASE)
    page.locator("#unlock-form button").click()
    page.locator("#evidence-add").wait_for(state="visible", timeout=30_000)

    page.locator("#evidence-files li", has_text="photo.jpg").locator("button", has_text="Register as evidence").click()
    page.locator("#evidence-status").get_by_text("Registered as evidence").wait_for(timeout=30_000)
    page.locator(".staff-evidence-item h3", has_text="photo.jpg").wait_for()
    # A file the reporter sent later, with a message, is evidence as well.
    letter = page.locator("#evidence-files li", has_text="letter.pdf")
    letter.locator("button", has_text="Register as evidence").click()
    page.locator(".staff-evidence-item h3", has_text="letter.pdf").wait_for(timeout=30_000)

    page.select_option("#evidence-kind", "screenshot")
    page.fill("#evidence-label", "Threat on the messenger")
    page.set_input_files("#evidence-file", str(shot))
    page.locator("#evidence-upload button[type=submit]").click()
    page.locator("#evidence-upload-status").get_by_text("Added as evidence").wait_for(timeout=30_000)
    item = page.locator(".staff-evidence-item", has_text="Threat on the messenger")
    item.locator("button", has_text="View and verify").click()
    item.get_by_text("✓ Verified").wait_for(timeout=30_000)
    item.locator("td", has_text="SHA-256 matches the capture").wait_for(timeout=10_000)
    log = item.locator("table.staff-custody").inner_text()
    for step in ("Received", "Handed out", "Viewed"):
        assert step in log
    photo_log = page.locator(".staff-evidence-item", has_text="photo.jpg").locator("table.staff-custody").inner_text()
    assert "Received" in photo_log
    assert "Decrypted" in photo_log
    assert page.locator(".staff-evidence-item .staff-verified", has_text="✓ intact").count() == 3
    assert problems == []
    assert serious_axe_violations(page) == []
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#evidence").screenshot(path=str(SCREENSHOTS / "evidence-section.png"))
    context.close()

    stored = [path.read_bytes() for path in node.settings.resolved_evidence_dir.iterdir()]
    assert len(stored) == 1
    assert b"EVIDENCE-CANARY-7c1d" not in stored[0]
    assert b"Threat on the messenger" not in b"".join(stored)
