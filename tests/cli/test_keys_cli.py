"""`tnrwatch keys`, `tnrwatch reports` and `tnrwatch jurisdictions` through the real Typer app, on both databases."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.services.test_reports import CANARY, send_report
from tnrwatch.cli.main import app
from tnrwatch.services import recipient_keys
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings

PASSPHRASE = "a long enough passphrase"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TNRWATCH_KEY_WRAP_STRENGTH", "interactive")
    monkeypatch.setenv("TNRWATCH_REPORT_POW_BITS", "4")
    monkeypatch.setenv("COLUMNS", "250")  # wide tables: every column readable
    return CliRunner()


def _passphrase_file(tmp_path: Path, text: str = PASSPHRASE) -> Path:
    path = tmp_path / f"pass-{uuid.uuid4().hex[:6]}"
    path.write_text(text + "\n")
    return path


def _create(runner: CliRunner, tmp_path: Path, jurisdiction: str = "DE") -> tuple[str, Path]:
    key_file = tmp_path / f"key-{uuid.uuid4().hex[:6]}.json"
    result = runner.invoke(
        app,
        ["keys", "create", "-j", jurisdiction, "--key-file", str(key_file),
         "--passphrase-file", str(_passphrase_file(tmp_path))],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    return result.stdout.strip(), key_file


def test_keys_reports_and_decrypt_with_metadata_stripping(runner: CliRunner, node: Node, tmp_path: Path) -> None:
    key_id, key_file = _create(runner, tmp_path)
    assert "PRIVATE" not in key_file.read_text()
    assert json.loads(key_file.read_text())["id"] == key_id
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x013B] = "Artist Name"  # Artist
    Image.new("RGB", (8, 8), "red").save(photo, "JPEG", exif=exif.tobytes())
    sent = send_report(Intake(node), "DE", files=[photo.getvalue()])

    listed = runner.invoke(app, ["reports", "list"], terminal_width=300)
    assert str(sent.report_id) in listed.stdout
    assert CANARY not in listed.stdout

    out_dir = tmp_path / "out"
    result = runner.invoke(
        app,
        ["reports", "decrypt", str(sent.report_id), "--key-file", str(key_file), "--output-dir", str(out_dir),
         "--strip-metadata", "--passphrase-file", str(_passphrase_file(tmp_path))],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["answers"]["what"]["description"] == CANARY
    (saved,) = body["files"]
    assert saved["verified"] is True
    assert Path(saved["file"]).read_bytes() == photo.getvalue()
    assert "exif" in saved["removed"]
    with Image.open(saved["stripped_copy"]) as stripped:
        assert not stripped.getexif()

    wrong = runner.invoke(
        app,
        ["reports", "decrypt", str(sent.report_id), "--key-file", str(key_file),
         "--passphrase-file", str(_passphrase_file(tmp_path, "not the passphrase at all"))],
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert "does not unlock" in wrong.stderr


def test_rotate_grant_revoke_and_jurisdictions(runner: CliRunner, node: Node, tmp_path: Path) -> None:
    first_id, first_file = _create(runner, tmp_path)
    sent = send_report(Intake(node), "DE")
    second_id, _ = _create(runner, tmp_path)

    refused = runner.invoke(app, ["keys", "revoke", first_id])
    assert refused.exit_code == 2
    assert "with this key only" in refused.stderr
    granted = runner.invoke(
        app, ["keys", "grant", str(first_file), "--to", second_id, "--passphrase-file", str(_passphrase_file(tmp_path))]
    )
    assert granted.exit_code == 0
    assert "1 report(s)" in granted.stderr

    new_file = tmp_path / "rotated.json"
    rotated = runner.invoke(
        app,
        ["keys", "rotate", str(first_file), "--new-key-file", str(new_file),
         "--passphrase-file", str(_passphrase_file(tmp_path)), "--new-passphrase-file",
         str(_passphrase_file(tmp_path, "another long passphrase"))],
    )  # fmt: skip
    assert rotated.exit_code == 0, rotated.output
    decrypted = runner.invoke(
        app,
        ["reports", "decrypt", str(sent.report_id), "--key-file", str(new_file),
         "--passphrase-file", str(_passphrase_file(tmp_path, "another long passphrase"))],
    )  # fmt: skip
    assert decrypted.exit_code == 0
    assert CANARY in decrypted.stdout
    assert runner.invoke(app, ["keys", "revoke", second_id]).exit_code == 0

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0
    assert first_id[:8] in listed.stdout
    # The table's width follows the terminal; the statuses themselves are checked where they are kept.
    statuses = {str(key.id): key.status for key in recipient_keys.list_keys(node)}
    assert statuses[first_id] == "retired"
    assert statuses[second_id] == "revoked"

    added = runner.invoke(app, ["jurisdictions", "add", "NGO-HAVEN", "--name", "Haven NGO"])
    assert added.exit_code == 0, added.output
    table = runner.invoke(app, ["jurisdictions", "list"], terminal_width=300).stdout
    assert "NGO-HAVEN" in table
    assert "Haven NGO" in table
    bad = runner.invoke(app, ["jurisdictions", "add", "x", "--name", "", "--kind", "club"])
    assert bad.exit_code == 2
    assert "kind" in bad.stderr
    short = runner.invoke(
        app, ["keys", "create", "-j", "DE", "--passphrase-file", str(_passphrase_file(tmp_path, "short"))]
    )
    assert short.exit_code == 2
    assert "at least 12" in short.stderr
