"""The whole secure-reporting flow in a real browser against a real `tnrwatch serve`, then a search for leaks.

A reporter files a report in Arabic with a canary string and a file, keeps the receipt, follows up and writes a
message; an officer signs in, unlocks their key, reads it in the browser and replies; the reporter reads the reply;
`tnrwatch reports decrypt` reads it too. Then the database file, its WAL, the server's log (at debug level) and its
temporary directory are searched for the canary, the receipt and the file's bytes: zero hits. The same with
JavaScript off (the plain form), where the server seals on arrival.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from tnrwatch.crypto import envelope, keywrap, totp
from tnrwatch.services import accounts, recipient_keys, staff_auth
from tnrwatch.services.node import Node as TnrwatchNode
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store import migrate

from .browser import serious_axe_violations

pytestmark = pytest.mark.browser

BIN = Path(sys.executable).parent
PASSWORD = "officer password 1234"
PASSPHRASE = "officer key passphrase 5678"
CANARY = "CANARY-4b1f-قناري-канарейка"


@dataclass
class Node:
    url: str
    home: Path
    env: dict[str, str]
    log: Path
    tmp: Path
    key_file: Path
    process: subprocess.Popen[bytes]
    totp_secret: str = ""  # the officer's second factor

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "tnrwatch"), *args], env=self.env, capture_output=True, text=True, check=False, timeout=120
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Node]:
    """A fresh SQLite node with an officer of DE and their key, served by `tnrwatch serve` in its own process, with
    its temporary directory and its log where the test can search them."""
    home, tmp = tmp_path / "home", tmp_path / "server-tmp"
    tmp.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "TNRWATCH_HOME": str(home),
        "TNRWATCH_DATABASE_URL": "",
        "TNRWATCH_PORT": str(port),
        "TNRWATCH_LOG_LEVEL": "debug",
        "TNRWATCH_REPORT_POW_BITS": "8",
        "TNRWATCH_KEY_WRAP_STRENGTH": "interactive",
        "TNRWATCH_SQLITE_SYNCHRONOUS": "NORMAL",
        "TMPDIR": str(tmp),
    }
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "password").write_text(PASSWORD)
    (secrets / "passphrase").write_text(PASSPHRASE)
    key_file = secrets / "key.json"
    node = Node(f"http://127.0.0.1:{port}", home, env, tmp_path / "server.log", tmp, key_file, None)  # type: ignore[arg-type]
    node.totp_secret = _prepare(home, key_file)
    with node.log.open("wb") as log:
        node.process = subprocess.Popen([str(BIN / "tnrwatch"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urlopen(node.url + "/health", timeout=1) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or node.process.poll() is not None:
                raise RuntimeError("tnrwatch serve did not start:\n" + node.log.read_text()) from None
            time.sleep(0.1)
    yield node
    node.stop()


def _prepare(home: Path, key_file: Path) -> str:
    """Migrate, add an officer of DE with a password, a second factor and a recipient key, and write the key file, in
    this process (starting the command line four times would cost more than the whole browser flow). Returns the
    officer's TOTP secret."""
    settings = Settings(home=home, key_wrap_strength="interactive")
    node = TnrwatchNode.open(settings)
    try:
        migrate.upgrade(node.store)
        accounts.add_account(node, Principal.operator(), "officer.de", "officer", jurisdiction="DE")
        enrolment = staff_auth.set_password(node, Principal.operator(), "officer.de", PASSWORD)
        assert enrolment is not None
        public, private = envelope.new_key_pair()
        key_id = uuid.uuid4()
        wrapped = keywrap.wrap(private, PASSPHRASE, key_id, public, "interactive").to_json()
        recipient_keys.add_key(
            node,
            Principal.operator(),
            jurisdiction="DE",
            username="officer.de",
            public_key=public,
            wrapped_private_key=wrapped,
            key_id=key_id,
        )
        # France's focal point can receive: the German officer shares the report with it.
        french_public, french_private = envelope.new_key_pair()
        french_id = uuid.uuid4()
        recipient_keys.add_key(
            node,
            Principal.operator(),
            jurisdiction="FR",
            username=None,
            public_key=french_public,
            wrapped_private_key=keywrap.wrap(
                french_private, PASSPHRASE, french_id, french_public, "interactive"
            ).to_json(),
            key_id=french_id,
        )
    finally:
        node.close()
    body = {
        "tnrwatch_key": 1,
        "id": str(key_id),
        "public_key": envelope.b64encode(public),
        "wrapped_private_key": wrapped,
    }
    key_file.write_text(json.dumps(body))
    return enrolment.secret


def _leaks(node: Node, needles: dict[str, bytes]) -> list[str]:
    """Every (needle, file) pair where a needle occurs in the database, its WAL/SHM, the log, the temp directory or
    the attachment folder (which must hold ciphertext only)."""
    places = [p for p in node.home.glob("tnrwatch.sqlite3*") if p.is_file()]
    places += [node.log]
    places += [p for p in node.tmp.rglob("*") if p.is_file()]
    places += [p for p in (node.home / "attachments").rglob("*") if p.is_file()]
    hits = []
    for path in places:
        data = path.read_bytes()
        hits += [f"{name} in {path.name}" for name, needle in needles.items() if needle in data]
    return hits


def _needles(receipt: str, file_bytes: bytes) -> dict[str, bytes]:
    return {
        "canary (utf-8)": CANARY.encode(),
        "canary (utf-16)": CANARY.encode("utf-16-le"),
        "canary (json-escaped)": json.dumps(CANARY).encode()[1:-1],
        "receipt": receipt.encode(),
        "receipt (normalised)": receipt.replace("-", "").encode(),
        "file head": file_bytes[:64],
        "file middle": file_bytes[len(file_bytes) // 2 : len(file_bytes) // 2 + 64],
    }


def _next(page: Any, step: int) -> None:
    page.locator(f"#step-{step} button.next").click()
    page.locator(f"#step-{step + 1}").wait_for(state="visible")


def _file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(1024 * 1024 + 333) + f"\n{CANARY}\n".encode()
    path = tmp_path / "evidence.bin"
    path.write_bytes(data)
    return path, data


def test_report_follow_up_and_officer_reading_in_the_browser_leave_no_plaintext(
    browser: Any, served: Node, tmp_path: Path
) -> None:
    file_path, file_bytes = _file(tmp_path)
    reporter = browser.new_context(locale="ar")
    page = reporter.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(served.url + "/report?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#report-app").wait_for(state="visible")
    page.select_option("#jurisdiction", "DE")
    _next(page, 1)
    page.locator("#step-2 input[name=tactic_families]").first.check()
    page.fill("#description", CANARY)
    _next(page, 2)
    page.select_option("#host_country", "DE")
    page.check("#date_unknown")
    page.fill("#approximately", "2026")
    _next(page, 3)
    page.locator("#step-4 input[name=who]").first.check()
    _next(page, 4)
    page.select_option("#origin_country", "IR")
    _next(page, 5)
    page.locator("#step-6 input[name=wants]").first.check()
    page.check("#urgent-no")
    _next(page, 6)
    page.set_input_files("#files", str(file_path))
    _next(page, 7)
    page.locator("#step-8 button[type=submit]").click()
    page.locator("#receipt-panel").wait_for(state="visible", timeout=60_000)
    receipt = page.locator("#receipt-text").inner_text().strip()
    assert len(receipt.replace("-", "")) == 32
    assert page.locator("#done-link").get_attribute("aria-disabled") == "true"
    assert serious_axe_violations(page) == []
    page.check("#receipt-kept")
    assert page.locator("#done-link").get_attribute("aria-disabled") != "true"

    # The reporter comes back with the receipt and adds a message.
    page.goto(served.url + "/follow-up")
    page.fill("#receipt", receipt)
    page.locator("#receipt-form button[type=submit]").click()
    page.locator("#answers").get_by_text(CANARY).wait_for(timeout=30_000)
    page.fill("#reply-text", CANARY + " (reporter)")
    page.locator("#reply-form button[type=submit]").click()
    page.locator("#messages-list").get_by_text(CANARY + " (reporter)").wait_for(timeout=30_000)
    assert serious_axe_violations(page) == []
    origins = {url.split("/")[2] for url in requested if not url.startswith(("data:", "blob:"))}
    assert origins == {served.url.split("/")[2]}

    # The officer signs in, unlocks the key in the browser, reads, replies.
    officer = browser.new_context()
    desk = officer.new_page()
    desk.goto(served.url + "/app/sign-in")
    desk.fill("#username", "officer.de")
    desk.fill("#password", PASSWORD)
    desk.fill("#code", totp.code_at(served.totp_secret, dt.datetime.now(dt.UTC)))  # what the authenticator app shows
    desk.locator("form button[type=submit]").click()
    desk.wait_for_url("**/app/reports")
    desk.locator("a[href^='/app/reports/']").first.click()
    desk.fill("#passphrase", PASSPHRASE)
    desk.locator("#unlock-form button").click()
    # Unlocking derives the key with Argon2id in the browser: slow on a busy machine.
    desk.locator("#answers").get_by_text(CANARY).wait_for(timeout=90_000)
    desk.locator("#messages").get_by_text(CANARY + " (reporter)").wait_for()
    desk.fill("#reply-text", CANARY + " (officer)")
    desk.locator("#reply-form button").click()
    desk.locator("#messages").get_by_text(CANARY + " (officer)").wait_for(timeout=30_000)
    assert serious_axe_violations(desk) == []

    # The officer shares the report with France's focal point (sealed in this page), then works the case to closed.
    desk.select_option("#share-to", "FR")
    desk.locator("#share-form button").click()
    desk.locator("#share-status").get_by_text("Shared with").wait_for(timeout=30_000)

    # The officer codes an incident from what they read, in the coding form, and finds it on the case page.
    case_url = desk.url
    desk.locator("#code-incident").click()
    desk.wait_for_url("**/incidents/new")
    _fill_coding_form(desk)
    _screenshot(desk, tmp_path, "coding-form")
    assert serious_axe_violations(desk) == []
    desk.locator("#coding-form button[type=submit]").first.click()
    desk.locator("#coding").get_by_text(INCIDENT_TITLE).wait_for()
    assert "Coded by officer.de" in desk.locator("#coding").inner_text()
    _screenshot(desk.locator("#coding"), tmp_path, "case-coding-section")
    # Coding the same again stops at the duplicate step, which names the incident and why.
    desk.locator("#code-incident").click()
    _fill_coding_form(desk)
    desk.locator("#coding-form button[type=submit]").first.click()
    duplicates = desk.locator("#duplicates")
    duplicates.wait_for()
    assert INCIDENT_TITLE in duplicates.inner_text()
    assert "Already linked to this report." in duplicates.inner_text()
    assert "the same place: Hamburg, Germany" in duplicates.inner_text()
    _screenshot(desk, tmp_path, "coding-duplicates")
    assert serious_axe_violations(desk) == []
    desk.goto(case_url)
    desk.locator("#case-title").wait_for()
    assert desk.locator("#coding tbody tr").count() == 1

    for target in ("acknowledged", "triaged", "under_verification", "verified"):
        desk.locator(f"button[name=status][value={target}]").click()
        desk.locator("#case-title").wait_for()
    desk.select_option("#refer-kind", "police")
    desk.locator("form[action$='/referrals'] button").click()
    desk.locator(".staff-case li").get_by_text("the police").wait_for()
    desk.locator("button[name=status][value=closed]").click()
    history = desk.locator(".staff-history").inner_text()
    assert "referred → closed" in history
    assert "received → acknowledged" in history
    assert serious_axe_violations(desk) == []
    desk.goto(served.url + "/app/reports?status=closed")
    assert desk.locator("table.staff-table tbody tr").count() == 1
    assert serious_axe_violations(desk) == []

    # The reporter reads the officer's reply.
    page.goto(served.url + "/follow-up")
    page.fill("#receipt", receipt)
    page.locator("#receipt-form button[type=submit]").click()
    page.locator("#messages-list").get_by_text(CANARY + " (officer)").wait_for(timeout=30_000)
    reporter.close()
    officer.close()

    # The offline path reads the same report with the key file.
    report_id = _only_report_id(served)
    out_dir = tmp_path / "decrypted"
    decrypted = served.cli(
        "reports", "decrypt", report_id, "--key-file", str(served.key_file), "--output-dir", str(out_dir),
        "--passphrase-file", str(served.key_file.parent / "passphrase"),
    )  # fmt: skip
    assert decrypted.returncode == 0, decrypted.stderr
    body = json.loads(decrypted.stdout)
    assert body["answers"]["what"]["description"] == CANARY
    assert body["answers"]["language"] == "ar"
    (saved,) = body["files"]
    assert saved["verified"]
    assert Path(saved["file"]).read_bytes() == file_bytes
    assert [m["author"] for m in body["messages"]] == ["reporter", "officer"]
    with contextlib.closing(sqlite3.connect(served.home / "tnrwatch.sqlite3")) as database:  # France holds a copy now
        referral = database.execute("SELECT kind, to_jurisdiction FROM referral ORDER BY id").fetchall()
        copies = database.execute(
            "SELECT count(*) FROM report_key JOIN recipient_key ON recipient_key.id = report_key.recipient_key_id "
            "WHERE recipient_key.jurisdiction_code = 'FR'"
        ).fetchone()
    assert referral == [("focal_point", "FR"), ("police", None)]
    assert copies == (1,)

    assert _leaks(served, _needles(receipt, file_bytes)) == []
    served.stop()  # the WAL is checkpointed into the database file on close: search both again
    assert _leaks(served, _needles(receipt, file_bytes)) == []


def test_the_plain_form_without_javascript_stores_no_plaintext(browser: Any, served: Node, tmp_path: Path) -> None:
    file_path, file_bytes = _file(tmp_path)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served.url + "/report")
    page.locator("a[href^='/report/plain']").first.click()
    page.select_option("select[name=jurisdiction]", "DE")
    page.locator("input[name=tactic_families]").first.check()
    page.fill("textarea[name=description]", CANARY)
    page.check("input[name=urgent][value=no]")
    page.set_input_files("input[name=files]", str(file_path))
    page.locator("form[action='/report/plain'] button[type=submit]").click()
    receipt_node = page.locator(".receipt").first
    receipt_node.wait_for(timeout=30_000)
    receipt = receipt_node.inner_text().strip()
    context.close()

    assert _leaks(served, _needles(receipt, file_bytes)) == []
    decrypted = served.cli(
        "reports", "decrypt", _only_report_id(served), "--key-file", str(served.key_file),
        "--passphrase-file", str(served.key_file.parent / "passphrase"),
    )  # fmt: skip
    assert decrypted.returncode == 0, decrypted.stderr
    assert json.loads(decrypted.stdout)["answers"]["what"]["description"] == CANARY
    served.stop()
    assert _leaks(served, _needles(receipt, file_bytes)) == []


INCIDENT_TITLE = "Reporter followed home from the station by two men"


def _fill_coding_form(desk: Any) -> None:
    desk.fill("#f-title", INCIDENT_TITLE)
    desk.fill("#f-date_start", "2026-10-01")
    desk.select_option("#f-date_precision", "month")
    desk.select_option("#f-origin_countries", ["IR"])
    desk.select_option("#f-geo_precision", "place")
    desk.fill("#f-place", "Hamburg")
    desk.check("input[name=tactics][value=stalking]")
    desk.check("input[name=tactics][value=threats]")
    desk.select_option("#f-verification", "reported")
    desk.fill("#f-sources-0-title", "Report to the focal point")
    desk.select_option("#f-sources-0-reliability", "C")
    desk.select_option("#f-sources-0-credibility", "3")
    desk.select_option("#f-new_persons-0-role", "target")
    desk.check("#f-new_persons-0-at_risk")


def _screenshot(target: Any, tmp_path: Path, name: str) -> None:
    """A page or a part of one, in the test's directory (TNRWATCH_SCREENSHOTS=dir keeps copies)."""
    keep = os.environ.get("TNRWATCH_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    if hasattr(target, "set_viewport_size"):
        target.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    else:
        target.screenshot(path=str(folder / f"{name}.png"))


def _only_report_id(node: Node) -> str:
    import sqlite3

    with sqlite3.connect(node.home / "tnrwatch.sqlite3") as connection:
        (row,) = connection.execute("SELECT id FROM report").fetchall()
    raw = row[0]
    return str(raw) if len(str(raw)) == 36 else f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
