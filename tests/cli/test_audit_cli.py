"""`tnrwatch audit` through the real Typer app, on both databases: verify passes, then names the row a direct
database edit broke; an export is checked without the database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


def write_log(node: Node, entries: int = 5) -> None:
    for step in range(entries):
        with node.store.writing() as session:
            record_change(session, Principal.operator(), "update", "incident", uuid.uuid4(), ["title"], note=f"s{step}")


def test_verify_passes_then_names_the_edited_row(runner: CliRunner, node: Node) -> None:
    write_log(node)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok: 5 entries (up to row 5)" in result.stdout

    with node.store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET action = 'create' WHERE id = 2"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "row 2 was modified" in result.stderr

    listed = runner.invoke(app, ["audit", "list", "--limit", "2"])
    assert listed.exit_code == 0, listed.output
    assert "s4" in listed.stdout
    assert "s2" not in listed.stdout


def test_export_then_verify_the_file(runner: CliRunner, node: Node, tmp_path: Path) -> None:
    write_log(node)
    sealed = runner.invoke(app, ["audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    assert "sealed row 5" in sealed.stdout
    path = tmp_path / "audit.jsonl"
    exported = runner.invoke(app, ["audit", "export", "--out", str(path)])
    assert exported.exit_code == 0, exported.output
    fingerprint = exported.stdout.split("key fingerprint ")[1].strip()

    checked = runner.invoke(app, ["audit", "verify", "--file", str(path)])
    assert checked.exit_code == 0, checked.output
    assert fingerprint in checked.stdout

    lines = path.read_text(encoding="utf-8").splitlines()
    del lines[3]  # the entry of row 3
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    broken = runner.invoke(app, ["audit", "verify", "--file", str(path)])
    assert broken.exit_code == 1
    assert "row 3 missing" in broken.stderr

    again = runner.invoke(app, ["audit", "export", "--out", str(path)])
    assert again.exit_code != 0  # never overwrites a file
